namespace ShmKit;

/// <summary>
/// Owns a <see cref="ReadOnlyMemory{T}"/> over a region of a <see cref="ReadOnlySharedMemoryAttachment"/>, for code
/// that cannot hold a span (streams, pipelines, async methods). There is deliberately no writable
/// <see cref="Memory{T}"/>: the pages are mapped without write permission, and a write would kill the process.
/// </summary>
/// <remarks>
/// The rules of <see cref="SharedMemoryManager"/> apply: the owner holds a reference on the mapping until
/// <see cref="Dispose"/> (disposing the attachment meanwhile defers the detach); <c>Memory.Pin()</c> takes one more,
/// given back by the handle's Dispose, so a pinned pointer outlives both; <see cref="Memory"/> and spans from it are
/// valid until Dispose and no longer; an owner never disposed keeps the segment attached until the process exits.
/// (<c>MemoryMarshal</c> can reach the underlying manager and cast away read-only, as for any ReadOnlyMemory: that is
/// unsafe code, and a write through it faults.)
/// </remarks>
public sealed class ReadOnlySharedMemoryOwner : IDisposable
{
    private readonly SharedMemoryManager _manager;

    /// <summary>Creates an owner over <paramref name="length"/> bytes at <paramref name="offset"/> of <paramref name="attachment"/>.</summary>
    /// <param name="attachment">A read-only attachment (undisposed).</param>
    /// <param name="offset">Byte offset of the region from the start of the segment.</param>
    /// <param name="length">Bytes in the region.</param>
    /// <exception cref="ArgumentOutOfRangeException">The region is not inside the segment.</exception>
    /// <exception cref="ObjectDisposedException">The attachment has been disposed.</exception>
    public ReadOnlySharedMemoryOwner(ReadOnlySharedMemoryAttachment attachment, long offset, int length)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        _manager = new SharedMemoryManager(attachment.Region, offset, length);
    }

    /// <summary>The region; valid until <see cref="Dispose"/>.</summary>
    /// <exception cref="ObjectDisposedException">The owner has been disposed.</exception>
    public ReadOnlyMemory<byte> Memory => _manager.Memory;

    /// <summary>Byte offset of the region from the start of the segment.</summary>
    public long Offset => _manager.Offset;

    /// <summary>Bytes in the region.</summary>
    public int Length => _manager.Length;

    /// <summary>Gives back the owner's reference (once); pins taken from <see cref="Memory"/> keep theirs.</summary>
    public void Dispose() => _manager.Dispose();
}
