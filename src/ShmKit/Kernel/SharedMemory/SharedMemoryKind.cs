using ShmKit.Interop;

namespace ShmKit;

/// <summary>Shared memory for <see cref="IpcControl{TKind, TStatus}"/>: shmget and shmctl with <c>struct shmid_ds</c>.</summary>
internal readonly struct SharedMemoryKind : IIpcKind<Shm.shmid_ds>
{
    public static IpcKindDescription Description { get; } =
        new(IpcObjectKind.SharedMemory, "shmget", "shmctl", Shm.SHM_STAT, Shm.SHM_STAT_ANY, Shm.SHM_INFO, "SHM_INFO");

    public static int Get(int key, long size, int flags) => Shm.shmget(key, (nuint)size, flags);

    public static Exception GetFailed(int errno, in IpcCall call, long size, int flags) =>
        SharedMemoryErrors.ForShmget(errno, call, size, flags);

    public static unsafe int Control(int idOrIndex, int command, void* buffer) => Shm.shmctl(idOrIndex, command, buffer);

    public static ref Ipc.ipc_perm Permissions(ref Shm.shmid_ds status) => ref status.shm_perm;
}
