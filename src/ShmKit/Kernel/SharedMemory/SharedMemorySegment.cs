using System.Globalization;
using ShmKit.Interop;
using ShmControl = ShmKit.IpcControl<ShmKit.SharedMemoryKind, ShmKit.Interop.Shm.shmid_ds>;

namespace ShmKit;

/// <summary>
/// A System V shared memory segment: a kernel object found by key or id, that any number of processes attach
/// into their address space. This type is a reference to the kernel object, not a process resource: it holds
/// nothing to dispose. <see cref="Attach(nint, bool)"/> maps it (a disposable <see cref="SharedMemoryAttachment"/>),
/// and <see cref="Remove()"/> deletes it.
/// </summary>
/// <remarks>
/// <para>Creation modes map to shmget flags: <see cref="CreateNew"/> is IPC_CREAT|IPC_EXCL, <see cref="Open"/> is 0,
/// <see cref="OpenOrCreate"/> is IPC_CREAT, <see cref="CreatePrivate"/> is IPC_PRIVATE.</para>
/// <para>Permissions default to 0600 (owner read and write), not the world-writable 0666 of textbook examples;
/// anything wider is the caller's explicit choice.</para>
/// <para>Lifetime: a segment lives until it is removed, even when no process has it attached. After
/// <see cref="Remove()"/> it disappears once the last attachment is detached; until then existing attachments keep working.</para>
/// <para><b>What opening asks of the kernel.</b> Only the id (shmget): opening, removing and changing the mode of a
/// segment need no read permission, so none of them stats it. The <see cref="Size"/> of a segment this call created is
/// the size asked; of an opened one it is read on first use (IPC_STAT, or SHM_STAT_ANY when this user may not read the
/// segment, as ipcs does). A segment that its owner may not read (mode 0200) can thus be created, opened and removed.</para>
/// <para>Missing versus removed: finding nothing by key or id (<see cref="Open"/>, <see cref="OpenById"/>,
/// <see cref="Remove(int)"/>) throws <see cref="IpcObjectNotFoundException"/>; using an instance whose segment has
/// since been removed and detached by everyone (<see cref="Stat"/>, <see cref="Attach"/>, <see cref="SetMode"/>,
/// <see cref="Remove()"/>, ...) throws <see cref="IpcObjectRemovedException"/>.</para>
/// <para>SHM_SHARE_MMU (Solaris intimate shared memory) does not exist on Linux, so there is no option for it.</para>
/// </remarks>
public sealed class SharedMemorySegment
{
    /// <summary>The default permission: owner read and write (0600).</summary>
    public const UnixFileMode DefaultMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// The size in bytes, or -1 until it is read from the kernel. Written once by whichever thread reads it first
    /// (all of them read the same fixed value: a segment's size never changes), read by any thread with Volatile.
    /// </summary>
    private long _size;

    private SharedMemorySegment(int id, IpcKey key, long size, bool wasCreated)
    {
        Id = id;
        Key = key;
        _size = size;
        WasCreated = wasCreated;
    }

    /// <summary>The segment's id (shmid), valid in every process of the host.</summary>
    public int Id { get; }

    /// <summary>The key it was created or opened with (<see cref="IpcKey.Private"/> for private segments).</summary>
    public IpcKey Key { get; }

    /// <summary>
    /// The segment's size in bytes: every access is checked against it. The size asked for a segment this call
    /// created; for an opened one, read from the kernel (shm_segsz) on first use, with IPC_STAT or, when this user may
    /// not read the segment, SHM_STAT_ANY (as ipcs does).
    /// </summary>
    /// <exception cref="IpcObjectRemovedException">The size was not known yet and the segment has been removed.</exception>
    /// <exception cref="IpcAccessDeniedException">The size was not known yet, this user may not read the segment, and the kernel has no SHM_STAT_ANY (before Linux 4.17).</exception>
    public long Size
    {
        get
        {
            long size = Volatile.Read(ref _size);
            if (size < 0)
            {
                size = (long)ShmControl.StatMetadata(Id, Key, existed: true).shm_segsz;
                Volatile.Write(ref _size, size);
            }

            return size;
        }
    }

    /// <summary>
    /// True when the call that returned this instance created the segment (<see cref="CreateNew"/>,
    /// <see cref="CreatePrivate"/>, or <see cref="OpenOrCreate"/> when there was none); false when it opened an
    /// existing one. A creator initializes the contents (the kernel fills a new segment with zeros).
    /// </summary>
    public bool WasCreated { get; }

    /// <summary>Creates a segment that must not exist yet (IPC_CREAT|IPC_EXCL).</summary>
    /// <param name="key">The key; <see cref="IpcKey.Private"/> creates a private segment.</param>
    /// <param name="size">Size in bytes, 1 to shmmax.</param>
    /// <param name="mode">Permission bits; default 0600. Any mode works, even one that does not let the owner read (nothing is stat'ed after shmget).</param>
    /// <param name="options">Huge pages or no swap reservation.</param>
    /// <exception cref="IpcObjectExistsException">A segment with this key exists.</exception>
    /// <exception cref="IpcSizeException">The size is above shmmax.</exception>
    /// <exception cref="IpcLimitExceededException">Out of segment ids or memory.</exception>
    public static SharedMemorySegment CreateNew(IpcKey key, long size, UnixFileMode mode = DefaultMode, SharedMemoryCreateOptions options = SharedMemoryCreateOptions.None)
    {
        CheckCreateSize(size);
        int flags = Ipc.IPC_CREAT | Ipc.IPC_EXCL | IpcTime.FromPermissions(mode, nameof(mode)) | CheckOptions(options);

        // Nothing after shmget can fail, so nothing created here can be left behind.
        return new SharedMemorySegment(ShmControl.Get(key, size, flags), key, size, wasCreated: true);
    }

    /// <summary>Creates a private segment (IPC_PRIVATE): new, without a key, shared by passing its <see cref="Id"/>.</summary>
    /// <param name="size">Size in bytes, 1 to shmmax.</param>
    /// <param name="mode">Permission bits; default 0600.</param>
    /// <param name="options">Huge pages or no swap reservation.</param>
    public static SharedMemorySegment CreatePrivate(long size, UnixFileMode mode = DefaultMode, SharedMemoryCreateOptions options = SharedMemoryCreateOptions.None) =>
        CreateNew(IpcKey.Private, size, mode, options);

    /// <summary>
    /// Opens the segment with this key, or creates it if there is none. <see cref="WasCreated"/> tells which: this
    /// call first tries to create exclusively (IPC_CREAT|IPC_EXCL), and opens the segment only if it exists.
    /// </summary>
    /// <param name="key">The key (not <see cref="IpcKey.Private"/>).</param>
    /// <param name="size">The size to create; an existing segment must be at least this large.</param>
    /// <param name="mode">Permission bits when created; default 0600.</param>
    /// <param name="options">Huge pages or no swap reservation, when created.</param>
    /// <exception cref="IpcSizeException">The existing segment is smaller than <paramref name="size"/>.</exception>
    /// <exception cref="IpcAccessDeniedException">
    /// The segment exists and its mode does not grant this user the access that <paramref name="mode"/> asks for:
    /// shmget checks the bits passed against an existing segment (use <see cref="Open"/> to open without asking
    /// for anything).
    /// </exception>
    public static SharedMemorySegment OpenOrCreate(IpcKey key, long size, UnixFileMode mode = DefaultMode, SharedMemoryCreateOptions options = SharedMemoryCreateOptions.None)
    {
        CheckNotPrivate(key);
        CheckCreateSize(size);
        int bits = IpcTime.FromPermissions(mode, nameof(mode));
        var (id, created) = ShmControl.OpenOrCreate(key, size, bits | CheckOptions(options), openFlags: bits);
        return new SharedMemorySegment(id, key, created ? size : -1, created);
    }

    /// <summary>
    /// Opens the existing segment with this key (shmget without flags, which checks no permission). Its size is read
    /// from the kernel when first needed.
    /// </summary>
    /// <param name="key">The key (not <see cref="IpcKey.Private"/>).</param>
    /// <exception cref="IpcObjectNotFoundException">No segment has this key.</exception>
    public static SharedMemorySegment Open(IpcKey key)
    {
        CheckNotPrivate(key);
        return new SharedMemorySegment(ShmControl.Get(key, 0, 0), key, -1, wasCreated: false);
    }

    /// <summary>Opens a segment by id (from <c>ipcs</c>, <see cref="GetAll"/>, or another process).</summary>
    /// <param name="id">The shmid.</param>
    /// <exception cref="IpcObjectNotFoundException">No segment has this id.</exception>
    public static SharedMemorySegment OpenById(int id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        Shm.shmid_ds ds = ShmControl.StatMetadata(id, key: null, existed: false);
        return new SharedMemorySegment(id, new IpcKey(ds.shm_perm.__key), (long)ds.shm_segsz, wasCreated: false);
    }

    /// <summary>Attaches the segment for reading and writing (shmat).</summary>
    /// <param name="addressHint">Where to map it; 0 lets the kernel choose (the usual and portable choice).</param>
    /// <param name="roundAddressHint">SHM_RND: round <paramref name="addressHint"/> down to SHMLBA instead of failing when it is not aligned.</param>
    /// <returns>An attachment that detaches on Dispose (and from a finalizer if forgotten). It never removes the segment.</returns>
    /// <exception cref="IpcAccessDeniedException">The mode does not grant this user read and write access.</exception>
    /// <exception cref="IpcObjectRemovedException">The segment has been removed and its id is no longer in use.</exception>
    /// <exception cref="ArgumentException"><paramref name="addressHint"/> is not aligned (without <paramref name="roundAddressHint"/>) or overlaps a mapping.</exception>
    public SharedMemoryAttachment Attach(nint addressHint = 0, bool roundAddressHint = false) =>
        new(this, AttachCore(addressHint, roundAddressHint, readOnly: false));

    /// <summary>
    /// Attaches the segment read-only (SHM_RDONLY). The returned view has no write methods at all, so a mistaken
    /// write is a compile-time error rather than a segmentation fault.
    /// </summary>
    /// <param name="addressHint">Where to map it; 0 lets the kernel choose.</param>
    /// <param name="roundAddressHint">SHM_RND: round the hint down to SHMLBA.</param>
    /// <returns>A read-only attachment that detaches on Dispose.</returns>
    /// <exception cref="IpcAccessDeniedException">The mode does not grant this user read access.</exception>
    /// <exception cref="IpcObjectRemovedException">The segment has been removed and its id is no longer in use.</exception>
    /// <exception cref="ArgumentException"><paramref name="addressHint"/> is not aligned (without <paramref name="roundAddressHint"/>) or overlaps a mapping.</exception>
    public ReadOnlySharedMemoryAttachment AttachReadOnly(nint addressHint = 0, bool roundAddressHint = false) =>
        new(this, AttachCore(addressHint, roundAddressHint, readOnly: true));

    /// <summary>Reads everything the kernel keeps about the segment (IPC_STAT). Needs read permission.</summary>
    /// <returns>A snapshot of <c>struct shmid_ds</c>.</returns>
    /// <exception cref="IpcObjectRemovedException">The segment has been removed and its id is no longer in use.</exception>
    /// <exception cref="IpcAccessDeniedException">This user may not read the segment (<c>ipcs -m</c> shows its owner and mode).</exception>
    public SharedMemorySegmentInfo Stat() => ToInfo(Id, ShmControl.Stat(Id, Key, existed: true));

    /// <summary>Changes the permission bits (IPC_SET). Only the owner, the creator or root may; read permission is not needed.</summary>
    /// <param name="mode">The new permission bits (0777 at most).</param>
    public void SetMode(UnixFileMode mode) => ShmControl.SetMode(Id, Key, mode);

    /// <summary>Changes the owner (IPC_SET). Only the owner, the creator or root may.</summary>
    /// <param name="userId">The new owner's user id.</param>
    /// <param name="groupId">The new owner's group id.</param>
    public void SetOwner(uint userId, uint groupId) => ShmControl.SetPermissions(Id, Key, mode: null, userId, groupId);

    /// <summary>
    /// Marks the segment for removal (IPC_RMID). It disappears when the last process detaches; attachments that
    /// exist keep working until then, and no new process can find it by key. Needs ownership, not read permission.
    /// </summary>
    /// <exception cref="IpcAccessDeniedException">Only the owner, the creator or root may remove it.</exception>
    /// <exception cref="IpcObjectRemovedException">The segment has already been removed and its id is no longer in use.</exception>
    public void Remove() => ShmControl.Remove(Id, Key, existed: true);

    /// <summary>Removes the segment with this id (IPC_RMID), as <c>ipcrm -m</c> does.</summary>
    /// <param name="id">The shmid.</param>
    public static void Remove(int id) => ShmControl.Remove(id, key: null, existed: false);

    /// <summary>
    /// Locks the segment's pages in RAM so they are never swapped out (SHM_LOCK). Needs CAP_IPC_LOCK or enough
    /// RLIMIT_MEMLOCK. Nothing to do with mutual exclusion: for that, see <see cref="SemaphoreSet"/>.
    /// </summary>
    public unsafe void LockInMemory()
    {
        if (Shm.shmctl(Id, Shm.SHM_LOCK, null) < 0)
        {
            throw SharedMemoryErrors.ForLockInMemory(Errno.Last, Call("shmctl(SHM_LOCK)"), Size);
        }
    }

    /// <summary>Lets the segment's pages be swapped again (SHM_UNLOCK).</summary>
    public unsafe void UnlockInMemory()
    {
        if (Shm.shmctl(Id, Shm.SHM_UNLOCK, null) < 0)
        {
            ThrowStatFailed(Errno.Last, Call("shmctl(SHM_UNLOCK)"));
        }
    }

    /// <summary>The host's limits and current usage (IPC_INFO, SHM_INFO).</summary>
    /// <returns>shmmax, shmmin, shmmni, shmseg, shmall and the pages in use.</returns>
    public static SharedMemoryLimits GetLimits()
    {
        var (_, info) = ShmControl.Query<Shm.shminfo>(Ipc.IPC_INFO, "IPC_INFO");
        var (_, usage) = ShmControl.Query<Shm.shm_info>(Shm.SHM_INFO, "SHM_INFO");
        return new SharedMemoryLimits
        {
            MaxSegmentSize = info.shmmax,
            MinSegmentSize = info.shmmin,
            MaxSegments = info.shmmni,
            MaxSegmentsPerProcess = info.shmseg,
            MaxTotalPages = info.shmall,
            PageSize = Environment.SystemPageSize,
            SegmentsInUse = usage.used_ids,
            PagesInUse = usage.shm_tot,
            PagesResident = usage.shm_rss,
            PagesSwapped = usage.shm_swp,
        };
    }

    /// <summary>
    /// Every segment on the host that this process may see, like <c>ipcs -m</c> (SHM_STAT_ANY, which ignores read
    /// permission as /proc/sysvipc/shm does; SHM_STAT on kernels without it, before 4.17).
    /// </summary>
    /// <returns>One snapshot per segment, ordered by id.</returns>
    public static IReadOnlyList<SharedMemorySegmentInfo> GetAll() => ShmControl.GetAll(ToInfo);

    /// <inheritdoc/>
    public override string ToString()
    {
        long size = Volatile.Read(ref _size);
        return size >= 0
            ? string.Create(CultureInfo.InvariantCulture, $"shm id {Id} key {Key} ({size} bytes)")
            : string.Create(CultureInfo.InvariantCulture, $"shm id {Id} key {Key}");
    }

    internal IpcCall Call(string operation) => new(IpcObjectKind.SharedMemory, operation, Key, Id);

    private unsafe SafeSharedMemoryAttachHandle AttachCore(nint addressHint, bool roundAddressHint, bool readOnly)
    {
        int flags = (readOnly ? Shm.SHM_RDONLY : 0) | (roundAddressHint ? Shm.SHM_RND : 0);
        nint address = Shm.shmat(Id, addressHint, flags);
        if (address == Shm.AttachFailed)
        {
            int errno = Errno.Last;
            var call = Call(readOnly ? "shmat(SHM_RDONLY)" : "shmat");
            if (errno == Errno.EINVAL)
            {
                // shmat reports a removed id and a bad address hint alike as EINVAL. Ask the kernel whether the
                // segment still exists first, so a removed segment is never blamed on the hint.
                Shm.shmid_ds ds;
                if (Shm.shmctl(Id, Ipc.IPC_STAT, &ds) < 0 && Errno.Last is Errno.EINVAL or Errno.EIDRM)
                {
                    ThrowStatFailed(Errno.EIDRM, call);
                }

                if (addressHint != 0)
                {
                    throw SharedMemoryErrors.BadAddressHint(call, addressHint, roundAddressHint, Size);
                }
            }

            throw SharedMemoryErrors.ForAttach(errno, call, Size);
        }

        return new SafeSharedMemoryAttachHandle(address);
    }

    /// <summary>
    /// Turns a failed shmctl on this segment into an exception, by the stale-id rule of <see cref="IpcErrors.ForControl"/>.
    /// </summary>
    private static void ThrowStatFailed(int errno, in IpcCall call, string? detail = null, bool existed = true) =>
        throw IpcErrors.ForControl(errno, call, existed, detail);

    private static void CheckCreateSize(long size)
    {
        if (size <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "A segment's size must be at least 1 byte (shmmin).");
        }
    }

    private static void CheckNotPrivate(IpcKey key)
    {
        if (key.IsPrivate)
        {
            throw new ArgumentException("IpcKey.Private always creates a new segment: use CreatePrivate, or OpenById with the id of an existing one.", nameof(key));
        }
    }

    private static int CheckOptions(SharedMemoryCreateOptions options)
    {
        const SharedMemoryCreateOptions all = SharedMemoryCreateOptions.HugePages | SharedMemoryCreateOptions.NoReserve;
        if ((options & ~all) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options, "Unknown SharedMemoryCreateOptions flag.");
        }

        return (int)options;
    }

    private static SharedMemorySegmentInfo ToInfo(int id, in Shm.shmid_ds ds) => new()
    {
        Key = new IpcKey(ds.shm_perm.__key),
        Id = id,
        Size = (long)ds.shm_segsz,
        Mode = IpcTime.ToPermissions(ds.shm_perm.mode),
        OwnerUserId = ds.shm_perm.uid,
        OwnerGroupId = ds.shm_perm.gid,
        CreatorUserId = ds.shm_perm.cuid,
        CreatorGroupId = ds.shm_perm.cgid,
        CreatorProcessId = ds.shm_cpid,
        LastOperationProcessId = ds.shm_lpid,
        AttachCount = (long)ds.shm_nattch,
        LastAttachTime = IpcTime.FromUnixSeconds(ds.shm_atime),
        LastDetachTime = IpcTime.FromUnixSeconds(ds.shm_dtime),
        LastChangeTime = IpcTime.FromUnixSeconds(ds.shm_ctime),
        IsMarkedForRemoval = (ds.shm_perm.mode & Shm.SHM_DEST) != 0,
        IsLocked = (ds.shm_perm.mode & Shm.SHM_LOCKED) != 0,
    };
}
