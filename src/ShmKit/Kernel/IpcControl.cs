using ShmKit.Interop;

namespace ShmKit;

/// <summary>
/// The calls every System V IPC family shares, written once: get (with the exclusive-first open-or-create loop),
/// IPC_STAT, IPC_SET, IPC_RMID, the stale-id rule, the *_STAT_ANY fallback and the enumeration that <c>ipcs</c> does.
/// <see cref="SharedMemorySegment"/>, <see cref="SemaphoreSet"/> and <see cref="MessageQueue"/> add only what is
/// particular to them.
/// </summary>
/// <remarks>
/// <para><b>Ask for no more than the operation needs.</b> IPC_STAT needs read permission; operating on an object often
/// does not (a semop needs alter permission, IPC_SET and IPC_RMID need ownership, an IPC_CREAT get nothing). So
/// nothing here stats on open. Facts about an object that any user may see in /proc/sysvipc (its size, key,
/// semaphore count, sem_otime, its current owner and mode for IPC_SET) come from <see cref="StatMetadata"/>:
/// IPC_STAT, and when that is denied, *_STAT_ANY, which reads the same struct without the read check.</para>
/// <para><b>*_STAT_ANY support</b> (Linux 4.17+) is probed, not read from the kernel version: the first call that can
/// tell (an answer from *_STAT_ANY, or EINVAL from it at an index that plain *_STAT answers for) decides, once per
/// kind, and the answer is cached.</para>
/// <para><b>Architecture.</b> Every entry point checks <see cref="IpcAbi.EnsureVerified()"/> first, so on an
/// architecture whose layouts are not verified nothing reaches the kernel.</para>
/// </remarks>
/// <typeparam name="TKind">The family.</typeparam>
/// <typeparam name="TStatus">Its status struct.</typeparam>
internal static unsafe class IpcControl<TKind, TStatus>
    where TKind : IIpcKind<TStatus>
    where TStatus : unmanaged
{
    private const int Unknown = 0;
    private const int Supported = 1;
    private const int Unsupported = -1;

    /// <summary>How many times OpenOrCreate retries when the object vanishes between EEXIST and the open.</summary>
    private const int OpenOrCreateAttempts = 100;

    /// <summary>
    /// Whether this kernel has *_STAT_ANY for this kind: <see cref="Unknown"/> until a call tells, then
    /// <see cref="Supported"/> or <see cref="Unsupported"/> for good. Written and read by any thread with
    /// Volatile; two threads that probe at once reach the same answer, so the race is harmless.
    /// </summary>
    private static int s_statAny;

    private static readonly IpcKindDescription s_kind = TKind.Description;

    /// <summary>Turns a status read at a table index into a snapshot.</summary>
    /// <typeparam name="TInfo">The snapshot type.</typeparam>
    internal delegate TInfo ToInfo<TInfo>(int id, in TStatus status);

    /// <summary>The call description for this kind.</summary>
    internal static IpcCall Call(string operation, IpcKey? key = null, int? id = null) => new(s_kind.Kind, operation, key, id);

    /// <summary>The get call (shmget, semget, msgget). Throws the kind's exception when it fails.</summary>
    /// <returns>The id.</returns>
    internal static int Get(IpcKey key, long size, int flags)
    {
        int id = TryGet(key, size, flags);
        if (id < 0)
        {
            throw TKind.GetFailed(Errno.Last, Call(s_kind.GetName, key), size, flags);
        }

        return id;
    }

    /// <summary>
    /// Opens the object with this key, or creates it: first exclusively (so the caller learns whether it created the
    /// object), then, when it exists, with <paramref name="openFlags"/> (which may carry permission bits to check).
    /// An object removed between the two is created again (a bounded number of times).
    /// </summary>
    /// <param name="key">A key that is not private.</param>
    /// <param name="size">The size (segments) or count (semaphore sets) to create with; ignored for queues.</param>
    /// <param name="createFlags">The mode bits and kind-specific flags for the exclusive create (IPC_CREAT|IPC_EXCL are added).</param>
    /// <param name="openFlags">The flags of the plain get when the object exists.</param>
    /// <returns>The id, and whether this call created the object.</returns>
    internal static (int Id, bool Created) OpenOrCreate(IpcKey key, long size, int createFlags, int openFlags)
    {
        int flags = createFlags | Ipc.IPC_CREAT | Ipc.IPC_EXCL;
        for (int attempt = 0; ; attempt++)
        {
            int id = TryGet(key, size, flags);
            if (id >= 0)
            {
                return (id, true);
            }

            int errno = Errno.Last;
            if (errno != Errno.EEXIST)
            {
                throw TKind.GetFailed(errno, Call(s_kind.GetName, key), size, flags);
            }

            id = TryGet(key, size, openFlags);
            if (id >= 0)
            {
                return (id, false);
            }

            errno = Errno.Last;
            if (errno != Errno.ENOENT || attempt >= OpenOrCreateAttempts)
            {
                throw TKind.GetFailed(errno, Call(s_kind.GetName, key), size, openFlags);
            }
        }
    }

    /// <summary>IPC_STAT: everything the kernel keeps about the object. Needs read permission.</summary>
    /// <param name="id">The id.</param>
    /// <param name="key">The key, for messages.</param>
    /// <param name="existed">The stale-id rule: true when the caller held the object (a stale id is "removed"), false for a lookup by id ("not found").</param>
    internal static TStatus Stat(int id, IpcKey? key, bool existed)
    {
        IpcAbi.EnsureVerified();
        TStatus status;
        if (TKind.Control(id, Ipc.IPC_STAT, &status) < 0)
        {
            throw IpcErrors.ForControl(Errno.Last, Call(s_kind.ControlName + "(IPC_STAT)", key, id), existed);
        }

        return status;
    }

    /// <summary>
    /// What IPC_STAT reports, for facts that need no read permission (see the remarks): IPC_STAT, and when it is
    /// denied, *_STAT_ANY. Throws IPC_STAT's error when neither answers.
    /// </summary>
    internal static TStatus StatMetadata(int id, IpcKey? key, bool existed)
    {
        if (!TryStatMetadata(id, out TStatus status, out int errno))
        {
            throw IpcErrors.ForControl(errno, Call(s_kind.ControlName + "(IPC_STAT)", key, id), existed);
        }

        return status;
    }

    /// <summary>As <see cref="StatMetadata"/>, without throwing.</summary>
    /// <returns>False with IPC_STAT's errno when neither call answered.</returns>
    internal static bool TryStatMetadata(int id, out TStatus status, out int errno)
    {
        IpcAbi.EnsureVerified();
        TStatus s;
        if (TKind.Control(id, Ipc.IPC_STAT, &s) >= 0)
        {
            status = s;
            errno = 0;
            return true;
        }

        errno = Errno.Last;
        if (errno == Errno.EACCES && TryStatAny(id, &s))
        {
            status = s;
            errno = 0;
            return true;
        }

        status = default;
        return false;
    }

    /// <summary>IPC_SET of the permission bits (validated: 0777 at most), keeping the owner.</summary>
    internal static void SetMode(int id, IpcKey? key, UnixFileMode mode) =>
        SetPermissions(id, key, (uint)IpcTime.FromPermissions(mode, nameof(mode)), userId: null, groupId: null);

    /// <summary>
    /// IPC_SET of the owner and/or the permission bits, keeping the rest. IPC_SET needs ownership, not read
    /// permission, so an owner who set the mode to 0000 or 0200 can still set it back.
    /// </summary>
    internal static void SetPermissions(int id, IpcKey? key, uint? mode, uint? userId, uint? groupId)
    {
        TStatus status = StatMetadata(id, key, existed: true);
        ApplyPermissions(ref status, mode, userId, groupId);
        if (TrySet(id, ref status) < 0)
        {
            throw IpcErrors.ForControl(Errno.Last, Call(s_kind.ControlName + "(IPC_SET)", key, id), existed: true);
        }
    }

    /// <summary>Writes the new owner and mode into a status read for IPC_SET (which reads only uid, gid and the permission bits of mode).</summary>
    internal static void ApplyPermissions(ref TStatus status, uint? mode, uint? userId, uint? groupId)
    {
        ref Ipc.ipc_perm perm = ref TKind.Permissions(ref status);
        perm.mode = mode ?? (perm.mode & 0x1FF);
        perm.uid = userId ?? perm.uid;
        perm.gid = groupId ?? perm.gid;
    }

    /// <summary>IPC_SET with <paramref name="status"/>.</summary>
    /// <returns>The call's result, or -1 with errno set.</returns>
    internal static int TrySet(int id, ref TStatus status)
    {
        IpcAbi.EnsureVerified();
        fixed (TStatus* p = &status)
        {
            return TKind.Control(id, Ipc.IPC_SET, p);
        }
    }

    /// <summary>IPC_RMID. Needs ownership only: no stat comes first, so an object its owner cannot read is removed too.</summary>
    internal static void Remove(int id, IpcKey? key, bool existed)
    {
        IpcAbi.EnsureVerified();
        if (TKind.Control(id, Ipc.IPC_RMID, null) < 0)
        {
            throw IpcErrors.ForControl(Errno.Last, Call(s_kind.ControlName + "(IPC_RMID)", key, id), existed);
        }
    }

    /// <summary>An info command (IPC_INFO or *_INFO) into <typeparamref name="TInfo"/>.</summary>
    /// <returns>The call's result (for *_INFO, the highest index in use) and the struct.</returns>
    internal static (int Result, TInfo Info) Query<TInfo>(int command, string commandName)
        where TInfo : unmanaged
    {
        IpcAbi.EnsureVerified();
        TInfo info;
        int result = TKind.Control(0, command, &info);
        if (result < 0)
        {
            IpcErrors.ThrowLast(Call($"{s_kind.ControlName}({commandName})"));
        }

        return (result, info);
    }

    /// <summary>
    /// Every object of this kind on the host, like <c>ipcs</c>: *_INFO gives the highest index in use, and
    /// *_STAT_ANY reads each index (ignoring read permission, as /proc/sysvipc does; plain *_STAT, which skips
    /// objects this user may not read, on kernels without it).
    /// </summary>
    /// <returns>One snapshot per object, ordered by id.</returns>
    internal static IReadOnlyList<TInfo> GetAll<TInfo>(ToInfo<TInfo> toInfo)
        where TInfo : IpcObjectInfo
    {
        // *_INFO fills an *info struct of at most 48 bytes (shm_info); only its result matters here.
        IpcAbi.EnsureVerified();
        byte* usage = stackalloc byte[128];
        int maxIndex = TKind.Control(0, s_kind.UsageCommand, usage);
        if (maxIndex < 0)
        {
            IpcErrors.ThrowLast(Call($"{s_kind.ControlName}({s_kind.UsageCommandName})"));
        }

        var list = new List<TInfo>();
        TStatus status;
        for (int index = 0; index <= maxIndex; index++)
        {
            int id = StatAtIndex(index, &status);
            if (id >= 0)
            {
                list.Add(toInfo(id, status));
            }
        }

        list.Sort((a, b) => a.Id.CompareTo(b.Id));
        return list;
    }

    /// <summary>Whether this kernel has *_STAT_ANY for this kind, as far as a call has told (for tests and diagnostics).</summary>
    internal static bool? HasStatAny => Volatile.Read(ref s_statAny) switch
    {
        Supported => true,
        Unsupported => false,
        _ => null,
    };

    private static int TryGet(IpcKey key, long size, int flags)
    {
        IpcAbi.EnsureVerified();
        return TKind.Get(key.Value, size, flags);
    }

    /// <summary>
    /// *_STAT_ANY takes an index into the kernel's table, not an id: the index is the id's low bits (15 of them, or
    /// 24 with ipcmni_extend). The answer counts only if the entry there has this very id.
    /// </summary>
    private static bool TryStatAny(int id, TStatus* status)
    {
        foreach (int mask in (ReadOnlySpan<int>)[0x7FFF, 0xFFFFFF])
        {
            if (StatAtIndex(id & mask, status) == id)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The object at a table index: *_STAT_ANY where the kernel has it (probing once), else *_STAT.
    /// </summary>
    /// <returns>The id there, or -1 (the index is not in use, or the object is not readable with *_STAT).</returns>
    private static int StatAtIndex(int index, TStatus* status)
    {
        int support = Volatile.Read(ref s_statAny);
        if (support == Unsupported)
        {
            return TKind.Control(index, s_kind.StatAtIndexCommand, status);
        }

        int id = TKind.Control(index, s_kind.StatAnyCommand, status);
        if (id >= 0)
        {
            if (support == Unknown)
            {
                Volatile.Write(ref s_statAny, Supported);
            }

            return id;
        }

        if (support == Supported || Errno.Last != Errno.EINVAL)
        {
            return -1;
        }

        // EINVAL: the index is not in use, or the kernel does not know *_STAT_ANY (before 4.17). Plain *_STAT tells
        // them apart: at an index in use it answers (with the id, or EACCES for an object this user may not read).
        id = TKind.Control(index, s_kind.StatAtIndexCommand, status);
        if (id >= 0 || Errno.Last == Errno.EACCES)
        {
            Volatile.Write(ref s_statAny, Unsupported);
        }

        return id;
    }
}
