using System.Runtime.InteropServices;
using ShmKit.Interop;

namespace ShmKit;

/// <summary>
/// Owns one shmat attachment: the handle is the attach address, and releasing it calls shmdt.
/// Detaching never removes the segment (that is IPC_RMID, an explicit call).
/// </summary>
/// <remarks>
/// The mapping's lifetime is the SafeHandle's reference count, and shmdt runs only when the count reaches zero.
/// The attachment object owns one reference, dropped by its Dispose or, for a forgotten attachment, by this
/// handle's finalizer. Every user of the memory holds one more for as long as it touches it: a copying call
/// (<see cref="SharedMemoryAttachment.Read{T}"/> and the rest) for its duration, a lease
/// (<see cref="SharedMemoryLease"/>) until its Dispose, a SharedMemoryManager until its Dispose and each of its
/// pins until Unpin. So neither Dispose nor the finalizer can unmap memory that a lease or a call still uses: the
/// last one out detaches. A lease that is never disposed keeps the mapping until the process exits (a leak, never
/// a crash).
/// </remarks>
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
