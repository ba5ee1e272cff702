using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>
/// A read-only attachment (shmat with SHM_RDONLY). It offers no way to write: copies go out only, leases give
/// read-only spans and <c>ref readonly</c> refs, so a mistaken write does not compile, instead of faulting at run time.
/// </summary>
/// <remarks>
/// The bytes are still shared: another process may change them at any time. <see cref="Read{T}"/> and
/// <see cref="ReadBytes"/> hold a reference on the mapping for their duration (a call racing <see cref="Dispose"/>
/// completes or throws <see cref="ObjectDisposedException"/>); spans and refs come only from an
/// <see cref="Acquire"/>d <see cref="ReadOnlySharedMemoryLease"/> and are valid until its Dispose. For heap-held
/// <see cref="ReadOnlyMemory{T}"/> use a <c>ReadOnlySharedMemoryOwner</c> (Memory layer). See
/// <see cref="SharedMemoryAttachment"/> for the lifetime and synchronization rules, which are the same.
/// </remarks>
public sealed class ReadOnlySharedMemoryAttachment : IDisposable
{
    private readonly AttachedRegion _region;

    internal ReadOnlySharedMemoryAttachment(SharedMemorySegment segment, SafeSharedMemoryAttachHandle handle)
    {
        Segment = segment;
        _region = new AttachedRegion(handle, segment.Size, readOnly: true);
    }

    /// <summary>The segment this attachment maps.</summary>
    public SharedMemorySegment Segment { get; }

    /// <summary>The number of accessible bytes: the segment's size.</summary>
    public long Length => _region.Length;

    /// <summary>
    /// The attach address in this process, for callers who opt in to unsafe code; the pages are mapped without write
    /// permission (a write through it kills the process). The memory behind it is mapped only while this attachment
    /// is undisposed or a lease on it is held: prefer <c>lease.Address</c> of an <see cref="Acquire"/>d lease.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The attachment has been disposed.</exception>
    public nint Address => _region.Address;

    /// <summary>True once <see cref="Dispose"/> has been called (the mapping itself may live on while leases are out).</summary>
    public bool IsDisposed => _region.IsDisposed;

    /// <summary>Internal access for the memory owners of the Memory layer.</summary>
    internal AttachedRegion Region => _region;

    /// <summary>
    /// Leases the mapping: the lease's read-only spans and refs stay valid until the lease is disposed, whatever
    /// happens to this attachment. Use it as <c>using var lease = attachment.Acquire();</c>.
    /// </summary>
    /// <returns>A lease holding one reference on the mapping; dispose it exactly once.</returns>
    /// <exception cref="ObjectDisposedException">The attachment has been disposed.</exception>
    public ReadOnlySharedMemoryLease Acquire() => new(_region);

    /// <summary>Reads a value at <paramref name="offset"/> (any alignment).</summary>
    /// <typeparam name="T">An unmanaged type with the same layout in every process.</typeparam>
    /// <param name="offset">Byte offset from the start of the segment.</param>
    /// <returns>A copy of the value.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit inside the segment.</exception>
    /// <exception cref="ObjectDisposedException">The attachment has been disposed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Read<T>(long offset)
        where T : unmanaged => _region.Read<T>(offset);

    /// <summary>Copies bytes out of the segment.</summary>
    /// <param name="offset">Byte offset.</param>
    /// <param name="destination">Receives <c>destination.Length</c> bytes.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the segment.</exception>
    /// <exception cref="ObjectDisposedException">The attachment has been disposed.</exception>
    public void ReadBytes(long offset, Span<byte> destination) => _region.ReadBytes(offset, destination);

    /// <summary>Detaches (shmdt) now, or when the last lease or memory owner ends. The segment stays until it is removed. Idempotent.</summary>
    public void Dispose() => _region.Dispose();
}
