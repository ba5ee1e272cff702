using System.Runtime.InteropServices;

namespace ShmKit.Interop;

/// <summary>
/// Owns one shmat attachment: the handle is the attach address, and releasing it calls shmdt.
/// Detaching never removes the segment (that is IPC_RMID, an explicit call).
/// </summary>
internal sealed class SafeSharedMemoryAttachHandle : SafeHandle
{
    public SafeSharedMemoryAttachHandle()
        : base(invalidHandleValue: Shm.AttachFailed, ownsHandle: true)
    {
    }

    internal SafeSharedMemoryAttachHandle(nint address)
        : base(invalidHandleValue: Shm.AttachFailed, ownsHandle: true)
    {
        SetHandle(address);
    }

    /// <inheritdoc/>
    public override bool IsInvalid => handle == Shm.AttachFailed || handle == 0;

    /// <inheritdoc/>
    protected override bool ReleaseHandle()
    {
        nint address = handle;
        handle = Shm.AttachFailed;
        return Shm.shmdt(address) == 0;
    }
}
