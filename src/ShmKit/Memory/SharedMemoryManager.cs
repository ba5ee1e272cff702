using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>
/// A <see cref="MemoryManager{T}"/> over a region of a read-write <see cref="SharedMemoryAttachment"/>: a
/// <see cref="Memory{T}"/> for code that cannot hold a span (streams, pipelines, async methods, fields of heap
/// objects). For a read-only attachment use <see cref="ReadOnlySharedMemoryOwner"/>.
/// </summary>
/// <remarks>
/// <para><b>Ownership.</b> The manager holds its own reference on the mapping from construction until
/// <see cref="Dispose()"/>, so disposing the attachment meanwhile defers the detach (shmdt). Every
/// <see cref="Pin"/> (what <c>Memory.Pin()</c> calls) takes one more reference, given back when the returned
/// <see cref="MemoryHandle"/> is disposed (<see cref="Unpin"/>): a pinned pointer stays mapped even after both the
/// attachment and the manager have been disposed.</para>
/// <para><b>How long the memory is valid.</b> <see cref="MemoryManager{T}.Memory"/>, and every span from it or from
/// <see cref="GetSpan"/>, is valid until this manager's Dispose, and no longer. After Dispose, <see cref="GetSpan"/>
/// and <c>Memory.Span</c> throw <see cref="ObjectDisposedException"/>, but a span taken before is not tracked: as
/// with any <see cref="IMemoryOwner{T}"/>, whoever disposes the manager must know that nobody still uses its memory.
/// Memory that must survive a Dispose on another thread is pinned instead (<c>using var pin = memory.Pin();</c>).</para>
/// <para><b>Dispose once.</b> The manager has no finalizer (it could not know whether a span from it is still in
/// use), so one that is never disposed keeps the segment attached until the process exits: a leak, never a crash.
/// Dispose each <see cref="MemoryHandle"/> from a pin exactly once; an excess Unpin is ignored, never taken from
/// another holder's reference.</para>
/// <para><b>Synchronization.</b> The memory is shared with other processes, which may read and write it at any time;
/// see <see cref="SharedMemoryAttachment"/>.</para>
/// </remarks>
public sealed unsafe class SharedMemoryManager : MemoryManager<byte>
{
    private readonly AttachedRegion _region;
    private readonly byte* _pointer;
    private readonly int _length;

    // Process-local, not shared memory. Written once, 0 -> 1, by Dispose (any thread, Interlocked.Exchange so that
    // exactly one caller gives back the creation reference); read by GetSpan and Pin before they hand out memory.
    private int _disposed;

    // Process-local: pins taken and not yet unpinned. Pin increments after taking its reference, Unpin decrements
    // (Interlocked, never below zero) before giving one back, so extra Unpins cannot release references they never took.
    private int _pins;

    /// <summary>Creates a manager over <paramref name="length"/> bytes at <paramref name="offset"/> of <paramref name="attachment"/>.</summary>
    /// <param name="attachment">A read-write attachment (undisposed).</param>
    /// <param name="offset">Byte offset of the region from the start of the segment.</param>
    /// <param name="length">Bytes in the region.</param>
    /// <exception cref="ArgumentOutOfRangeException">The region is not inside the segment.</exception>
    /// <exception cref="ObjectDisposedException">The attachment has been disposed.</exception>
    public SharedMemoryManager(SharedMemoryAttachment attachment, long offset, int length)
        : this(RegionOf(attachment), offset, length)
    {
    }

    internal SharedMemoryManager(AttachedRegion region, long offset, int length)
    {
        _region = region;
        _pointer = region.Enter(offset, length); // the creation reference, given back by Dispose
        _length = length;
        Offset = offset;
    }

    /// <summary>Byte offset of the region from the start of the segment.</summary>
    public long Offset { get; }

    /// <summary>Bytes in the region.</summary>
    public int Length => _length;

    /// <summary>The region as a span; valid until this manager's Dispose.</summary>
    /// <returns>A span into shared memory.</returns>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public override Span<byte> GetSpan()
    {
        ThrowIfDisposed();
        return new Span<byte>(_pointer, _length);
    }

    /// <summary>
    /// Takes a reference on the mapping and returns the address of element <paramref name="elementIndex"/>; the
    /// mapping stays until the returned handle is disposed, even if the attachment and this manager are disposed first.
    /// </summary>
    /// <param name="elementIndex">Index of the first byte to point at (0 to <see cref="Length"/>).</param>
    /// <returns>A handle to dispose exactly once.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="elementIndex"/> is outside the region.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)elementIndex, (uint)_length, nameof(elementIndex));
        ThrowIfDisposed();
        _region.AddRefWhileHeld(); // throws ObjectDisposedException if a racing Dispose dropped the last reference
        Interlocked.Increment(ref _pins);
        return new MemoryHandle(_pointer + elementIndex, default, this);
    }

    /// <summary>Gives back the reference of one <see cref="Pin"/>; called by <see cref="MemoryHandle.Dispose"/>.</summary>
    public override void Unpin()
    {
        int pins = Volatile.Read(ref _pins);
        while (pins > 0)
        {
            int seen = Interlocked.CompareExchange(ref _pins, pins - 1, pins);
            if (seen == pins)
            {
                _region.Exit();
                return;
            }

            pins = seen;
        }
    }

    /// <summary>
    /// Gives back the manager's reference (once; further calls do nothing). The segment is detached when the
    /// attachment, every other holder and every pin are done. The same as <see cref="IDisposable.Dispose"/>.
    /// </summary>
    public void Dispose() => ((IDisposable)this).Dispose();

    /// <summary>Gives back the creation reference (once): the segment is detached when the attachment, every other holder and every pin are done.</summary>
    /// <param name="disposing">Ignored: there is no finalizer.</param>
    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _region.Exit();
        }
    }

    private static AttachedRegion RegionOf(SharedMemoryAttachment attachment)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        return attachment.Region;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            ThrowDisposed();
        }
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDisposed() =>
        throw new ObjectDisposedException(nameof(SharedMemoryManager), "The shared memory manager has been disposed: its Memory is no longer valid. Pin the memory if it must outlive the manager.");
}
