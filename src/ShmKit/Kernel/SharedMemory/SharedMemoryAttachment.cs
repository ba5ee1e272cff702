using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>
/// A read-write attachment (shmat) of a <see cref="SharedMemorySegment"/> into this process. Reads and writes go
/// straight to the shared pages: other processes see them with no copy and no system call.
/// </summary>
/// <remarks>
/// <para><b>Copies.</b> <see cref="Read{T}"/>, <see cref="Write{T}"/>, <see cref="ReadBytes"/>,
/// <see cref="WriteBytes"/> and <see cref="Clear"/> touch only the bytes named, so a process can update one record in
/// the middle of a table without touching the rest. Each holds a reference on the mapping for its duration, so it is
/// safe to call from any thread at any time: a call that races <see cref="Dispose"/> either completes or throws
/// <see cref="ObjectDisposedException"/>, it never touches unmapped memory.</para>
/// <para><b>Spans and refs</b> come only from a lease: <c>using var lease = attachment.Acquire(); Span&lt;byte&gt; s =
/// lease.Span;</c>. They are valid until the lease's Dispose, and while a lease is out the mapping stays, even if this
/// attachment is disposed or finalized meanwhile (see <see cref="SharedMemoryLease"/>). For heap-held
/// <see cref="Memory{T}"/> (streams, pipelines, async code) use a <c>SharedMemoryManager</c> (Memory layer).</para>
/// <para><b>Bounds.</b> Every offset and length is checked against the segment's real size.</para>
/// <para><b>Dispose</b> drops this attachment's reference: the segment is detached (shmdt) at once, or when the last
/// lease, memory manager or pin ends. It never removes the segment. A forgotten attachment is detached by its
/// finalizer under the same rule.</para>
/// <para><b>Synchronization.</b> Shared memory has none of its own. Plain reads and writes may tear or be
/// reordered as seen from another process; use a lock (a semaphore) or <see cref="System.Threading.Volatile"/> and
/// <see cref="System.Threading.Interlocked"/> on refs from <see cref="SharedMemoryLease.GetAlignedRef{T}"/> for fields
/// two processes touch.</para>
/// <para><b>Pointers</b> are valid in this process only: store offsets in shared memory, never addresses.</para>
/// </remarks>
public sealed class SharedMemoryAttachment : IDisposable
{
    private readonly AttachedRegion _region;

    internal SharedMemoryAttachment(SharedMemorySegment segment, SafeSharedMemoryAttachHandle handle)
    {
        Segment = segment;
        _region = new AttachedRegion(handle, segment.Size, readOnly: false);
    }

    /// <summary>The segment this attachment maps.</summary>
    public SharedMemorySegment Segment { get; }

    /// <summary>The number of accessible bytes: the segment's size.</summary>
    public long Length => _region.Length;

    /// <summary>
    /// The attach address in this process, for callers who opt in to unsafe code. The memory behind it is mapped only
    /// while this attachment is undisposed or a lease on it is held: prefer <c>lease.Address</c> of an
    /// <see cref="Acquire"/>d lease, which cannot be detached under you.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The attachment has been disposed.</exception>
    public nint Address => _region.Address;

    /// <summary>True once <see cref="Dispose"/> has been called (the mapping itself may live on while leases are out).</summary>
    public bool IsDisposed => _region.IsDisposed;

    /// <summary>Internal access for the memory managers of the Memory layer.</summary>
    internal AttachedRegion Region => _region;

    /// <summary>
    /// Leases the mapping: the lease's spans and refs stay valid until the lease is disposed, whatever happens to this
    /// attachment. Use it as <c>using var lease = attachment.Acquire();</c>.
    /// </summary>
    /// <returns>A lease holding one reference on the mapping; dispose it exactly once.</returns>
    /// <exception cref="ObjectDisposedException">The attachment has been disposed.</exception>
    public SharedMemoryLease Acquire() => new(_region);

    /// <summary>Reads a value at <paramref name="offset"/> (any alignment).</summary>
    /// <typeparam name="T">An unmanaged type with the same layout in every process.</typeparam>
    /// <param name="offset">Byte offset from the start of the segment.</param>
    /// <returns>A copy of the value.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit inside the segment.</exception>
    /// <exception cref="ObjectDisposedException">The attachment has been disposed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Read<T>(long offset)
        where T : unmanaged => _region.Read<T>(offset);

    /// <summary>Writes a value at <paramref name="offset"/> (any alignment), touching only its bytes.</summary>
    /// <typeparam name="T">An unmanaged type with the same layout in every process.</typeparam>
    /// <param name="offset">Byte offset from the start of the segment.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit inside the segment.</exception>
    /// <exception cref="ObjectDisposedException">The attachment has been disposed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write<T>(long offset, in T value)
        where T : unmanaged => _region.Write(offset, value);

    /// <summary>Copies bytes out of the segment.</summary>
    /// <param name="offset">Byte offset to read from.</param>
    /// <param name="destination">Receives <c>destination.Length</c> bytes.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the segment.</exception>
    /// <exception cref="ObjectDisposedException">The attachment has been disposed.</exception>
    public void ReadBytes(long offset, Span<byte> destination) => _region.ReadBytes(offset, destination);

    /// <summary>Copies bytes into the segment, touching nothing else.</summary>
    /// <param name="offset">Byte offset to write at.</param>
    /// <param name="source">The bytes.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the segment.</exception>
    /// <exception cref="ObjectDisposedException">The attachment has been disposed.</exception>
    public void WriteBytes(long offset, ReadOnlySpan<byte> source) => _region.WriteBytes(offset, source);

    /// <summary>Sets <paramref name="length"/> bytes at <paramref name="offset"/> to zero.</summary>
    /// <param name="offset">Byte offset.</param>
    /// <param name="length">Number of bytes.</param>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the segment.</exception>
    /// <exception cref="ObjectDisposedException">The attachment has been disposed.</exception>
    public void Clear(long offset, long length) => _region.Clear(offset, length);

    /// <summary>Detaches (shmdt) now, or when the last lease, memory manager or pin ends. The segment stays until it is removed. Idempotent.</summary>
    public void Dispose() => _region.Dispose();
}
