using ShmKit.Interop;

namespace ShmKit;

/// <summary>
/// Semaphore sets for <see cref="IpcControl{TKind, TStatus}"/>: semget and semctl. <c>struct semid_ds</c> has two
/// layouts (x64 keeps an unused word after each time, 104 bytes; arm64 uses the asm-generic one, 88 bytes), so the
/// stat and set commands go through the layout of the running architecture and <see cref="SemaphoreSetStatus"/>.
/// </summary>
internal readonly struct SemaphoreSetKind : IIpcKind<SemaphoreSetStatus>
{
    public static IpcKindDescription Description { get; } =
        new(IpcObjectKind.SemaphoreSet, "semget", "semctl", Sem.SEM_STAT, Sem.SEM_STAT_ANY, Sem.SEM_INFO, "SEM_INFO");

    public static int Get(int key, long size, int flags) => Sem.semget(key, (int)size, flags);

    public static Exception GetFailed(int errno, in IpcCall call, long size, int flags) =>
        SemaphoreErrors.ForSemget(errno, call, (int)size);

    /// <summary>
    /// semctl; for IPC_STAT, IPC_SET, SEM_STAT and SEM_STAT_ANY <paramref name="buffer"/> is a
    /// <see cref="SemaphoreSetStatus"/>, copied to and from the architecture's <c>semid_ds</c>. IPC_SET reads only
    /// uid, gid and mode, so the times and the count need no care.
    /// </summary>
    public static unsafe int Control(int idOrIndex, int command, void* buffer)
    {
        if (command is not (Ipc.IPC_STAT or Ipc.IPC_SET or Sem.SEM_STAT or Sem.SEM_STAT_ANY))
        {
            return Sem.semctl(idOrIndex, 0, command, (nint)buffer);
        }

        var status = (SemaphoreSetStatus*)buffer;
        int result;
        if (IpcAbi.IsX64)
        {
            Sem.semid_ds_x64 ds = default;
            ds.sem_perm = status->sem_perm;
            result = Sem.semctl(idOrIndex, 0, command, (nint)(&ds));
            *status = new SemaphoreSetStatus { sem_perm = ds.sem_perm, sem_otime = ds.sem_otime, sem_ctime = ds.sem_ctime, sem_nsems = ds.sem_nsems };
        }
        else
        {
            Sem.semid_ds_generic64 ds = default;
            ds.sem_perm = status->sem_perm;
            result = Sem.semctl(idOrIndex, 0, command, (nint)(&ds));
            *status = new SemaphoreSetStatus { sem_perm = ds.sem_perm, sem_otime = ds.sem_otime, sem_ctime = ds.sem_ctime, sem_nsems = ds.sem_nsems };
        }

        return result;
    }

    public static ref Ipc.ipc_perm Permissions(ref SemaphoreSetStatus status) => ref status.sem_perm;

    /// <summary>The number of semaphores in the set with this id, or null if no stat answers.</summary>
    internal static int? TryReadCount(int id) =>
        IpcControl<SemaphoreSetKind, SemaphoreSetStatus>.TryStatMetadata(id, out SemaphoreSetStatus status, out _) ? (int)status.sem_nsems : null;
}
