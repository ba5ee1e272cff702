using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ShmKit;

/// <summary>
/// A read-write attachment (shmat) of a <see cref="SharedMemorySegment"/> into this process. Reads and writes go
/// straight to the shared pages: other processes see them with no copy and no system call.
/// </summary>
/// <remarks>
/// <para><b>Random access.</b> Typed values (<see cref="Read{T}"/>, <see cref="Write{T}"/>, <see cref="GetRef{T}"/>),
/// spans (<see cref="GetSpan(long, int)"/>) and byte copies (<see cref="ReadBytes"/>, <see cref="WriteBytes"/>) touch
/// only the bytes named, so a process can update one record in the middle of a table without touching the rest.
/// Every offset and length is checked against the segment's real size.</para>
/// <para><b>Ownership.</b> Spans and refs point into the mapping and are valid only until <see cref="Dispose"/>:
/// do not keep them past it, and do not dispose while another thread still uses one. Disposing detaches
/// (shmdt); it never removes the segment.</para>
/// <para><b>Synchronization.</b> Shared memory has none of its own. Plain reads and writes may tear or be
/// reordered as seen from another process; use a lock (a semaphore) or <see cref="System.Threading.Volatile"/> and
/// <see cref="System.Threading.Interlocked"/> on refs from <see cref="GetRef{T}"/> for fields two processes touch.</para>
/// <para><b>Pointers</b> are valid in this process only: store offsets in shared memory, never addresses.</para>
/// </remarks>
public sealed unsafe class SharedMemoryAttachment : IDisposable
{
    private readonly AttachedRegion _region;

    internal SharedMemoryAttachment(SharedMemorySegment segment, Interop.SafeSharedMemoryAttachHandle handle)
    {
        Segment = segment;
        _region = new AttachedRegion(handle, segment.Size);
    }

    /// <summary>The segment this attachment maps.</summary>
    public SharedMemorySegment Segment { get; }

    /// <summary>The number of accessible bytes: the segment's size.</summary>
    public long Length => _region.Length;

    /// <summary>The attach address in this process (for unsafe code that opts in; valid until Dispose).</summary>
    public nint Address => (nint)_region.Base;

    /// <summary>TEMPORARY seam (issue 8): the detaching handle, AddRef'd by Memory/MappedRegion until issue 7's leases replace it.</summary>
    internal System.Runtime.InteropServices.SafeHandle Handle => _region.Handle;

    /// <summary>True once detached.</summary>
    public bool IsDisposed => _region.IsDisposed;

    /// <summary>Reads a value at <paramref name="offset"/> (any alignment).</summary>
    /// <typeparam name="T">An unmanaged type with the same layout in every process.</typeparam>
    /// <param name="offset">Byte offset from the start of the segment.</param>
    /// <returns>A copy of the value.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit inside the segment.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Read<T>(long offset)
        where T : unmanaged => Unsafe.ReadUnaligned<T>(_region.Check(offset, sizeof(T)));

    /// <summary>Writes a value at <paramref name="offset"/> (any alignment), touching only its bytes.</summary>
    /// <typeparam name="T">An unmanaged type with the same layout in every process.</typeparam>
    /// <param name="offset">Byte offset from the start of the segment.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit inside the segment.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write<T>(long offset, in T value)
        where T : unmanaged => Unsafe.WriteUnaligned(_region.Check(offset, sizeof(T)), value);

    /// <summary>
    /// A reference to the value at <paramref name="offset"/>, for in-place updates and for
    /// <see cref="System.Threading.Volatile"/>/<see cref="System.Threading.Interlocked"/> (which need natural alignment).
    /// </summary>
    /// <typeparam name="T">An unmanaged type.</typeparam>
    /// <param name="offset">Byte offset from the start of the segment.</param>
    /// <returns>A ref into shared memory, valid until Dispose.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref T GetRef<T>(long offset)
        where T : unmanaged => ref Unsafe.AsRef<T>(_region.Check(offset, sizeof(T)));

    /// <summary>A span over <paramref name="length"/> bytes at <paramref name="offset"/>.</summary>
    /// <param name="offset">Byte offset.</param>
    /// <param name="length">Number of bytes.</param>
    /// <returns>A span into shared memory, valid until Dispose.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> GetSpan(long offset, int length) => new(_region.Check(offset, length), length);

    /// <summary>A span of <paramref name="count"/> values of <typeparamref name="T"/> at <paramref name="offset"/>.</summary>
    /// <typeparam name="T">An unmanaged type.</typeparam>
    /// <param name="offset">Byte offset.</param>
    /// <param name="count">Number of values.</param>
    /// <returns>A span into shared memory, valid until Dispose.</returns>
    public Span<T> GetSpan<T>(long offset, int count)
        where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return new Span<T>(_region.Check(offset, (long)count * sizeof(T)), count);
    }

    /// <summary>The whole segment as one span (segments up to 2 GiB - 1).</summary>
    /// <returns>A span into shared memory, valid until Dispose.</returns>
    public Span<byte> AsSpan() => new(_region.Check(0, Length), AttachedRegion.CheckSpanLength(Length));

    /// <summary>Copies bytes out of the segment.</summary>
    /// <param name="offset">Byte offset to read from.</param>
    /// <param name="destination">Receives <c>destination.Length</c> bytes.</param>
    public void ReadBytes(long offset, Span<byte> destination) =>
        new ReadOnlySpan<byte>(_region.Check(offset, destination.Length), destination.Length).CopyTo(destination);

    /// <summary>Copies bytes into the segment, touching nothing else.</summary>
    /// <param name="offset">Byte offset to write at.</param>
    /// <param name="source">The bytes.</param>
    public void WriteBytes(long offset, ReadOnlySpan<byte> source) =>
        source.CopyTo(new Span<byte>(_region.Check(offset, source.Length), source.Length));

    /// <summary>Sets <paramref name="length"/> bytes at <paramref name="offset"/> to zero.</summary>
    /// <param name="offset">Byte offset.</param>
    /// <param name="length">Number of bytes.</param>
    public void Clear(long offset, long length) => NativeMemory.Clear(_region.Check(offset, length), (nuint)length);

    /// <summary>Detaches (shmdt). The segment stays until it is removed.</summary>
    public void Dispose() => _region.Dispose();
}
