using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>
/// A read-only attachment (shmat with SHM_RDONLY). It offers no way to write: spans are read-only and refs are
/// <c>ref readonly</c>, so a mistaken write does not compile, instead of faulting at run time.
/// </summary>
/// <remarks>
/// The bytes are still shared: another process may change them at any time. Spans and refs are valid until
/// <see cref="Dispose"/>. See <see cref="SharedMemoryAttachment"/> for the synchronization rules.
/// </remarks>
public sealed unsafe class ReadOnlySharedMemoryAttachment : IDisposable
{
    private readonly AttachedRegion _region;

    internal ReadOnlySharedMemoryAttachment(SharedMemorySegment segment, Interop.SafeSharedMemoryAttachHandle handle)
    {
        Segment = segment;
        _region = new AttachedRegion(handle, segment.Size);
    }

    /// <summary>The segment this attachment maps.</summary>
    public SharedMemorySegment Segment { get; }

    /// <summary>The number of accessible bytes: the segment's size.</summary>
    public long Length => _region.Length;

    /// <summary>The attach address in this process (the pages are mapped without write permission).</summary>
    public nint Address => (nint)_region.Base;

    /// <summary>True once detached.</summary>
    public bool IsDisposed => _region.IsDisposed;

    /// <summary>Reads a value at <paramref name="offset"/> (any alignment).</summary>
    /// <typeparam name="T">An unmanaged type.</typeparam>
    /// <param name="offset">Byte offset.</param>
    /// <returns>A copy of the value.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T Read<T>(long offset)
        where T : unmanaged => Unsafe.ReadUnaligned<T>(_region.Check(offset, sizeof(T)));

    /// <summary>A read-only reference to the value at <paramref name="offset"/>.</summary>
    /// <typeparam name="T">An unmanaged type.</typeparam>
    /// <param name="offset">Byte offset.</param>
    /// <returns>A ref readonly into shared memory, valid until Dispose.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref readonly T GetRef<T>(long offset)
        where T : unmanaged => ref Unsafe.AsRef<T>(_region.Check(offset, sizeof(T)));

    /// <summary>A read-only span over <paramref name="length"/> bytes at <paramref name="offset"/>.</summary>
    /// <param name="offset">Byte offset.</param>
    /// <param name="length">Number of bytes.</param>
    /// <returns>A span into shared memory, valid until Dispose.</returns>
    public ReadOnlySpan<byte> GetSpan(long offset, int length) => new(_region.Check(offset, length), length);

    /// <summary>A read-only span of <paramref name="count"/> values at <paramref name="offset"/>.</summary>
    /// <typeparam name="T">An unmanaged type.</typeparam>
    /// <param name="offset">Byte offset.</param>
    /// <param name="count">Number of values.</param>
    /// <returns>A span into shared memory, valid until Dispose.</returns>
    public ReadOnlySpan<T> GetSpan<T>(long offset, int count)
        where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return new ReadOnlySpan<T>(_region.Check(offset, (long)count * sizeof(T)), count);
    }

    /// <summary>The whole segment as one read-only span (segments up to 2 GiB - 1).</summary>
    /// <returns>A span into shared memory, valid until Dispose.</returns>
    public ReadOnlySpan<byte> AsSpan() => new(_region.Check(0, Length), AttachedRegion.CheckSpanLength(Length));

    /// <summary>Copies bytes out of the segment.</summary>
    /// <param name="offset">Byte offset.</param>
    /// <param name="destination">Receives <c>destination.Length</c> bytes.</param>
    public void ReadBytes(long offset, Span<byte> destination) =>
        new ReadOnlySpan<byte>(_region.Check(offset, destination.Length), destination.Length).CopyTo(destination);

    /// <summary>Detaches (shmdt). The segment stays until it is removed.</summary>
    public void Dispose() => _region.Dispose();
}
