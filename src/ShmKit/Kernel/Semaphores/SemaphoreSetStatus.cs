using ShmKit.Interop;

namespace ShmKit;

/// <summary>
/// The fields of <c>struct semid_ds</c> that ShmKit reads, independent of the architecture's layout (see
/// <see cref="SemaphoreSetKind"/>). Not a kernel struct: it is never passed to the kernel itself.
/// </summary>
internal struct SemaphoreSetStatus
{
    public Ipc.ipc_perm sem_perm;
    public long sem_otime;
    public long sem_ctime;
    public ulong sem_nsems;
}
