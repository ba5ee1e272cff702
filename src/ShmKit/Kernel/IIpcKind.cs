using ShmKit.Interop;

namespace ShmKit;

/// <summary>
/// What differs between the three System V IPC families for the calls they share (get, IPC_STAT, IPC_SET,
/// IPC_RMID, *_STAT_ANY, *_INFO): the functions, the command numbers and the status struct. <see cref="IpcControl{TKind, TStatus}"/>
/// implements those calls once on top of it.
/// </summary>
/// <typeparam name="TStatus">The status struct IPC_STAT fills (<c>shmid_ds</c>, <c>msqid_ds</c>, or the
/// architecture-neutral <see cref="SemaphoreSetStatus"/>).</typeparam>
internal unsafe interface IIpcKind<TStatus>
    where TStatus : unmanaged
{
    /// <summary>The names and command numbers of the family.</summary>
    public static abstract IpcKindDescription Description { get; }

    /// <summary>The get call: shmget(key, size, flags), semget(key, nsems, flags), msgget(key, flags).</summary>
    /// <returns>The id, or -1 with errno set.</returns>
    public static abstract int Get(int key, long size, int flags);

    /// <summary>The exception for a failed get call, with the explanation particular to the kind.</summary>
    public static abstract Exception GetFailed(int errno, in IpcCall call, long size, int flags);

    /// <summary>The control call with a buffer (a <typeparamref name="TStatus"/> for the stat and set commands, an *info struct for the info commands, null for IPC_RMID).</summary>
    /// <returns>The call's result, or -1 with errno set.</returns>
    public static abstract int Control(int idOrIndex, int command, void* buffer);

    /// <summary>The <c>ipc_perm</c> inside a status.</summary>
    public static abstract ref Ipc.ipc_perm Permissions(ref TStatus status);
}
