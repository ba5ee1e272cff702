using System.Globalization;
using ShmKit.Interop;

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

    private SharedMemorySegment(int id, IpcKey key, long size)
    {
        Id = id;
        Key = key;
        Size = size;
    }

    /// <summary>The segment's id (shmid), valid in every process of the host.</summary>
    public int Id { get; }

    /// <summary>The key it was created or opened with (<see cref="IpcKey.Private"/> for private segments).</summary>
    public IpcKey Key { get; }

    /// <summary>The segment's size in bytes, read from the kernel: every access is checked against it.</summary>
    public long Size { get; }

    /// <summary>Creates a segment that must not exist yet (IPC_CREAT|IPC_EXCL).</summary>
    /// <param name="key">The key; <see cref="IpcKey.Private"/> creates a private segment.</param>
    /// <param name="size">Size in bytes, 1 to shmmax.</param>
    /// <param name="mode">Permission bits; default 0600.</param>
    /// <param name="options">Huge pages or no swap reservation.</param>
    /// <exception cref="IpcObjectExistsException">A segment with this key exists.</exception>
    /// <exception cref="IpcSizeException">The size is above shmmax.</exception>
    /// <exception cref="IpcLimitExceededException">Out of segment ids or memory.</exception>
    public static SharedMemorySegment CreateNew(IpcKey key, long size, UnixFileMode mode = DefaultMode, SharedMemoryCreateOptions options = SharedMemoryCreateOptions.None)
    {
        CheckCreateSize(size);
        return Get(key, size, Ipc.IPC_CREAT | Ipc.IPC_EXCL | IpcTime.FromPermissions(mode, nameof(mode)) | CheckOptions(options));
    }

    /// <summary>Creates a private segment (IPC_PRIVATE): new, without a key, shared by passing its <see cref="Id"/>.</summary>
    /// <param name="size">Size in bytes, 1 to shmmax.</param>
    /// <param name="mode">Permission bits; default 0600.</param>
    /// <param name="options">Huge pages or no swap reservation.</param>
    public static SharedMemorySegment CreatePrivate(long size, UnixFileMode mode = DefaultMode, SharedMemoryCreateOptions options = SharedMemoryCreateOptions.None) =>
        CreateNew(IpcKey.Private, size, mode, options);

    /// <summary>Opens the segment with this key, or creates it if there is none (IPC_CREAT).</summary>
    /// <param name="key">The key (not <see cref="IpcKey.Private"/>).</param>
    /// <param name="size">The size to create; an existing segment must be at least this large.</param>
    /// <param name="mode">Permission bits when created; default 0600.</param>
    /// <param name="options">Huge pages or no swap reservation, when created.</param>
    /// <exception cref="IpcSizeException">The existing segment is smaller than <paramref name="size"/>.</exception>
    /// <exception cref="IpcAccessDeniedException">
    /// The segment exists and its mode does not grant this user the access that <paramref name="mode"/> asks for:
    /// shmget checks the bits passed with IPC_CREAT against an existing segment (use <see cref="Open"/> to open
    /// without asking for anything).
    /// </exception>
    public static SharedMemorySegment OpenOrCreate(IpcKey key, long size, UnixFileMode mode = DefaultMode, SharedMemoryCreateOptions options = SharedMemoryCreateOptions.None)
    {
        CheckNotPrivate(key);
        CheckCreateSize(size);
        return Get(key, size, Ipc.IPC_CREAT | IpcTime.FromPermissions(mode, nameof(mode)) | CheckOptions(options));
    }

    /// <summary>Opens the existing segment with this key; its size is read from the kernel.</summary>
    /// <param name="key">The key (not <see cref="IpcKey.Private"/>).</param>
    /// <exception cref="IpcObjectNotFoundException">No segment has this key.</exception>
    public static SharedMemorySegment Open(IpcKey key)
    {
        CheckNotPrivate(key);
        return Get(key, 0, 0);
    }

    /// <summary>Opens a segment by id (from <c>ipcs</c>, <c>shmkit list</c>, or another process).</summary>
    /// <param name="id">The shmid.</param>
    /// <exception cref="IpcObjectNotFoundException">No segment has this id.</exception>
    public static unsafe SharedMemorySegment OpenById(int id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        Shm.shmid_ds ds;
        if (Shm.shmctl(id, Ipc.IPC_STAT, &ds) < 0)
        {
            ThrowStatFailed(Errno.Last, new IpcCall(IpcObjectKind.SharedMemory, "shmctl(IPC_STAT)", Id: id), existed: false);
        }

        return new SharedMemorySegment(id, new IpcKey(ds.shm_perm.__key), (long)ds.shm_segsz);
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

    /// <summary>Reads everything the kernel keeps about the segment (IPC_STAT).</summary>
    /// <returns>A snapshot of <c>struct shmid_ds</c>.</returns>
    /// <exception cref="IpcObjectRemovedException">The segment has been removed and its id is no longer in use.</exception>
    public unsafe SharedMemorySegmentInfo Stat()
    {
        Shm.shmid_ds ds;
        if (Shm.shmctl(Id, Ipc.IPC_STAT, &ds) < 0)
        {
            ThrowStatFailed(Errno.Last, Call("shmctl(IPC_STAT)"));
        }

        return ToInfo(Id, ds);
    }

    /// <summary>Changes the permission bits (IPC_SET). Only the owner, the creator or root may.</summary>
    /// <param name="mode">The new permission bits (0777 at most).</param>
    public void SetMode(UnixFileMode mode)
    {
        int bits = IpcTime.FromPermissions(mode, nameof(mode));
        Set((uint)bits, userId: null, groupId: null);
    }

    /// <summary>Changes the owner (IPC_SET). Only the owner, the creator or root may.</summary>
    /// <param name="userId">The new owner's user id.</param>
    /// <param name="groupId">The new owner's group id.</param>
    public void SetOwner(uint userId, uint groupId) => Set(mode: null, userId, groupId);

    /// <summary>
    /// Marks the segment for removal (IPC_RMID). It disappears when the last process detaches; attachments that
    /// exist keep working until then, and no new process can find it by key.
    /// </summary>
    /// <exception cref="IpcAccessDeniedException">Only the owner, the creator or root may remove it.</exception>
    /// <exception cref="IpcObjectRemovedException">The segment has already been removed and its id is no longer in use.</exception>
    public unsafe void Remove()
    {
        if (Shm.shmctl(Id, Ipc.IPC_RMID, null) < 0)
        {
            ThrowStatFailed(Errno.Last, Call("shmctl(IPC_RMID)"));
        }
    }

    /// <summary>Removes the segment with this id (IPC_RMID), as <c>ipcrm -m</c> does.</summary>
    /// <param name="id">The shmid.</param>
    public static unsafe void Remove(int id)
    {
        if (Shm.shmctl(id, Ipc.IPC_RMID, null) < 0)
        {
            ThrowStatFailed(Errno.Last, new IpcCall(IpcObjectKind.SharedMemory, "shmctl(IPC_RMID)", Id: id), existed: false);
        }
    }

    /// <summary>Locks the segment in memory so it is never swapped (SHM_LOCK). Needs CAP_IPC_LOCK or enough RLIMIT_MEMLOCK.</summary>
    public unsafe void Lock()
    {
        if (Shm.shmctl(Id, Shm.SHM_LOCK, null) < 0)
        {
            int errno = Errno.Last;
            ThrowStatFailed(errno, Call("shmctl(SHM_LOCK)"), errno switch
            {
                Errno.EPERM => "locking needs CAP_IPC_LOCK, or being the segment's owner or creator with a nonzero RLIMIT_MEMLOCK (`ulimit -l`).",
                Errno.ENOMEM => string.Create(CultureInfo.InvariantCulture,
                    $"locking its {Size} bytes would exceed this user's RLIMIT_MEMLOCK (`ulimit -l`, in KiB). Raise the limit, or lock as a process with CAP_IPC_LOCK."),
                _ => null,
            });
        }
    }

    /// <summary>Lets the segment be swapped again (SHM_UNLOCK).</summary>
    public unsafe void Unlock()
    {
        if (Shm.shmctl(Id, Shm.SHM_UNLOCK, null) < 0)
        {
            ThrowStatFailed(Errno.Last, Call("shmctl(SHM_UNLOCK)"));
        }
    }

    /// <summary>The host's limits and current usage (IPC_INFO, SHM_INFO).</summary>
    /// <returns>shmmax, shmmin, shmmni, shmseg, shmall and the pages in use.</returns>
    public static unsafe SharedMemoryLimits GetLimits()
    {
        Shm.shminfo info;
        Shm.shm_info usage;
        if (Shm.shmctl(0, Ipc.IPC_INFO, &info) < 0)
        {
            IpcErrors.ThrowLast(new IpcCall(IpcObjectKind.SharedMemory, "shmctl(IPC_INFO)"));
        }

        if (Shm.shmctl(0, Shm.SHM_INFO, &usage) < 0)
        {
            IpcErrors.ThrowLast(new IpcCall(IpcObjectKind.SharedMemory, "shmctl(SHM_INFO)"));
        }

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
    /// permission as /proc/sysvipc/shm does; SHM_STAT on kernels before 4.17).
    /// </summary>
    /// <returns>One snapshot per segment, ordered by id.</returns>
    public static unsafe IReadOnlyList<SharedMemorySegmentInfo> GetAll()
    {
        Shm.shm_info usage;
        int maxIndex = Shm.shmctl(0, Shm.SHM_INFO, &usage);
        if (maxIndex < 0)
        {
            IpcErrors.ThrowLast(new IpcCall(IpcObjectKind.SharedMemory, "shmctl(SHM_INFO)"));
        }

        return IpcEnumeration.Collect(maxIndex, static (index, any) =>
        {
            Shm.shmid_ds ds;
            int id = Shm.shmctl(index, any ? Shm.SHM_STAT_ANY : Shm.SHM_STAT, &ds);
            return id >= 0 ? ToInfo(id, ds) : null;
        });
    }

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"shm id {Id} key {Key} ({Size} bytes)");

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
                    throw new ArgumentException(
                        string.Create(CultureInfo.InvariantCulture, $"{call.Operation} failed for the {call.Describe()}: the address hint 0x{addressHint:x} is not page-aligned (pass roundAddressHint: true for SHM_RND) or overlaps an existing mapping."),
                        nameof(addressHint));
                }
            }

            IpcErrors.Throw(errno, call, errno == Errno.ENOMEM
                ? string.Create(CultureInfo.InvariantCulture, $"this process has no room in its address space to map {Size} bytes (ENOMEM). Attach a smaller segment, or detach others first.")
                : null);
        }

        return new SafeSharedMemoryAttachHandle(address);
    }

    private unsafe void Set(uint? mode, uint? userId, uint? groupId)
    {
        Shm.shmid_ds ds;
        if (Shm.shmctl(Id, Ipc.IPC_STAT, &ds) < 0)
        {
            // IPC_STAT needs read permission but IPC_SET only ownership: an owner who set the mode to 0000 (or
            // 0200) must still be able to set it back. SHM_STAT_ANY reads the same struct without the read check.
            int errno = Errno.Last;
            if (errno != Errno.EACCES || !TryStatAny(Id, &ds))
            {
                ThrowStatFailed(errno, Call("shmctl(IPC_STAT)"));
            }
        }

        // IPC_SET reads only uid, gid and the permission bits of mode; the rest of the struct is ignored.
        ds.shm_perm.mode = mode ?? (ds.shm_perm.mode & 0x1FF);
        ds.shm_perm.uid = userId ?? ds.shm_perm.uid;
        ds.shm_perm.gid = groupId ?? ds.shm_perm.gid;
        if (Shm.shmctl(Id, Ipc.IPC_SET, &ds) < 0)
        {
            ThrowStatFailed(Errno.Last, Call("shmctl(IPC_SET)"));
        }
    }

    /// <summary>
    /// SHM_STAT_ANY (Linux 4.17+) takes an index into the kernel's table, not an id: the index is the id's low bits
    /// (15 of them, or 24 with ipcmni_extend). The answer counts only if the entry there has this very id.
    /// </summary>
    private static unsafe bool TryStatAny(int id, Shm.shmid_ds* ds)
    {
        foreach (int mask in (ReadOnlySpan<int>)[0x7FFF, 0xFFFFFF])
        {
            if (Shm.shmctl(id & mask, Shm.SHM_STAT_ANY, ds) == id)
            {
                return true;
            }
        }

        return false;
    }

    private static unsafe SharedMemorySegment Get(IpcKey key, long size, int flags)
    {
        int id = Shm.shmget(key.Value, (nuint)size, flags);
        if (id < 0)
        {
            int errno = Errno.Last;
            var call = new IpcCall(IpcObjectKind.SharedMemory, "shmget", key);
            string? detail = errno switch
            {
                Errno.EINVAL => ExplainInvalidSize(key, size),
                Errno.ENOMEM when (flags & Shm.SHM_HUGETLB) != 0 => ExplainNoHugePages(size),
                Errno.ENOMEM => ExplainOutOfMemory(size),
                Errno.EPERM when (flags & Shm.SHM_HUGETLB) != 0 =>
                    "huge pages need CAP_IPC_LOCK or membership of the group in /proc/sys/vm/hugetlb_shm_group. Run with that capability or group, or create the segment without SharedMemoryCreateOptions.HugePages.",
                _ => null,
            };
            IpcErrors.Throw(errno, call, detail);
        }

        Shm.shmid_ds ds;
        if (Shm.shmctl(id, Ipc.IPC_STAT, &ds) < 0)
        {
            ThrowStatFailed(Errno.Last, new IpcCall(IpcObjectKind.SharedMemory, "shmctl(IPC_STAT)", key, id));
        }

        return new SharedMemorySegment(id, key, (long)ds.shm_segsz);
    }

    /// <summary>shmget's EINVAL has two causes; find out which one applies.</summary>
    private static unsafe string ExplainInvalidSize(IpcKey key, long size)
    {
        if (!key.IsPrivate)
        {
            int existing = Shm.shmget(key.Value, 0, 0);
            Shm.shmid_ds ds;
            if (existing >= 0 && Shm.shmctl(existing, Ipc.IPC_STAT, &ds) >= 0 && (long)ds.shm_segsz < size)
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"the segment exists with {(long)ds.shm_segsz} bytes, less than the {size} bytes asked. Open it with a size of at most {(long)ds.shm_segsz} bytes, or remove it (`shmkit rm {key}`) and create it again.");
            }
        }

        Shm.shminfo info;
        string limits = Shm.shmctl(0, Ipc.IPC_INFO, &info) >= 0
            ? string.Create(CultureInfo.InvariantCulture, $"shmmin={info.shmmin}, shmmax={info.shmmax}")
            : "see `shmkit limits`";
        return string.Create(CultureInfo.InvariantCulture,
            $"the size {size} bytes is outside the system's limits ({limits}). Ask for a size within them, or raise kernel.shmmax.");
    }

    /// <summary>shmget's ENOMEM with SHM_HUGETLB: almost always no free huge pages in the pool.</summary>
    private static string ExplainNoHugePages(long size)
    {
        string pool = "the huge page pool";
        try
        {
            string? total = null, free = null, pageSize = null;
            foreach (string line in File.ReadLines("/proc/meminfo"))
            {
                string value = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                if (line.StartsWith("HugePages_Total:", StringComparison.Ordinal))
                {
                    total = value;
                }
                else if (line.StartsWith("HugePages_Free:", StringComparison.Ordinal))
                {
                    free = value;
                }
                else if (line.StartsWith("Hugepagesize:", StringComparison.Ordinal))
                {
                    pageSize = value;
                }
            }

            if (total is not null && free is not null)
            {
                pool = $"the huge page pool ({free} of vm.nr_hugepages={total} pages of {pageSize} free)";
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"{pool} cannot hold {size} bytes (ENOMEM). Reserve huge pages first (for example `sysctl vm.nr_hugepages=64`, see /proc/sys/vm/nr_hugepages and /proc/meminfo), or create the segment without SharedMemoryCreateOptions.HugePages.");
    }

    /// <summary>shmget's ENOMEM without huge pages: the kernel would not commit memory and swap for the size.</summary>
    private static unsafe string ExplainOutOfMemory(long size)
    {
        Shm.shminfo info;
        Shm.shm_info usage;
        string limits = Shm.shmctl(0, Ipc.IPC_INFO, &info) >= 0 && Shm.shmctl(0, Shm.SHM_INFO, &usage) >= 0
            ? string.Create(CultureInfo.InvariantCulture, $"{usage.shm_tot} of shmall={info.shmall} pages are allocated")
            : "see `shmkit limits`";
        return string.Create(CultureInfo.InvariantCulture,
            $"the kernel cannot reserve memory and swap for {size} bytes ({limits}; the overcommit policy is /proc/sys/vm/overcommit_memory). Ask for less, free memory, raise kernel.shmall, or pass SharedMemoryCreateOptions.NoReserve to skip the reservation.");
    }

    /// <summary>
    /// Turns a failed shmctl into an exception; <paramref name="detail"/> explains errnos other than EINVAL and EIDRM.
    /// shmctl reports an id that is not (or no longer) in use as EINVAL (EIDRM in a race with IPC_RMID). The rule:
    /// a lookup by id (<paramref name="existed"/> false: OpenById, Remove(int)) that finds nothing is
    /// <see cref="IpcObjectNotFoundException"/>; an operation on a <see cref="SharedMemorySegment"/> this process
    /// already opened (so it existed) is <see cref="IpcObjectRemovedException"/>, as for SemaphoreSet.
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
