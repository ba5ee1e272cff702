using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>
/// A lease on the mapping of a <see cref="SharedMemoryAttachment"/>: the only source of spans and refs into shared
/// memory. While a lease is undisposed the mapping stays: disposing the attachment, or its finalizer, defers the
/// detach (shmdt) until the last lease ends.
/// </summary>
/// <remarks>
/// <para><b>How long a span or ref is valid.</b> Every span and ref from a lease (<see cref="Span"/>,
/// <see cref="GetSpan(long, int)"/>, <see cref="GetSpan{T}(long, int)"/>, <see cref="GetRef{T}"/>,
/// <see cref="GetAlignedRef{T}"/>) and the <see cref="Address"/> are valid from the call until this lease's
/// <see cref="Dispose"/>, and not a moment longer: after it the segment may be detached and the memory gone. The
/// compiler enforces most of this: spans and refs are tied to the lease variable, so returning one from the method
/// that holds the lease, or keeping one in a variable that outlives the lease's <c>using</c> block, does not compile
/// (in unsafe code this is only a warning: do not silence it).</para>
/// <para><b>Dispose once.</b> Use it as <c>using var lease = attachment.Acquire();</c>. Disposing the same variable
/// again does nothing. A lease is a value, like <see cref="System.Buffers.MemoryHandle"/>: a copy shares the one
/// reference the original holds, so dispose exactly one of them, once. Disposing two copies gives the reference back
/// twice and can detach the mapping under another lease. A lease that is never disposed keeps the segment attached
/// until the process exits (a leak that shows in nattch, never a crash).</para>
/// <para><b>Cost.</b> Acquire and Dispose are one atomic operation each; everything in between is a bounds check
/// and a pointer, so hold one lease for a whole batch of accesses rather than one per access.</para>
/// <para><b>Bounds.</b> Every offset and length is checked against the segment's real size (from the kernel), never
/// against a size read from shared memory.</para>
/// <para><b>Synchronization.</b> Shared memory has none of its own: plain reads and writes may tear or be reordered
/// as seen from another process. For fields two processes touch use a lock, or <see cref="System.Threading.Volatile"/>
/// and <see cref="System.Threading.Interlocked"/> on refs from <see cref="GetAlignedRef{T}"/>.</para>
/// <para><c>default(SharedMemoryLease)</c> behaves as a disposed lease.</para>
/// </remarks>
public unsafe ref struct SharedMemoryLease
{
    // Process-local state, not shared memory. _handle is the reference this lease holds (null once disposed);
    // only the thread that owns this stack value reads or writes it.
    private SafeSharedMemoryAttachHandle? _handle;
    private readonly byte* _base;
    private readonly long _length;

    /// <summary>Takes a reference on <paramref name="region"/> (throws ObjectDisposedException if it is disposed).</summary>
    internal SharedMemoryLease(AttachedRegion region)
    {
        region.AddRef();
        _handle = region.Handle;
        _base = region.Base;
        _length = region.Length;
    }

    /// <summary>The number of bytes mapped: the segment's size (0 for a default lease).</summary>
    public readonly long Length => _length;

    /// <summary>
    /// The attach address in this process, for unsafe code that opts in. Valid until this lease's
    /// <see cref="Dispose"/>; store offsets in shared memory, never addresses (every process maps elsewhere).
    /// </summary>
    /// <exception cref="ObjectDisposedException">The lease has been disposed.</exception>
    public readonly nint Address
    {
        get
        {
            ThrowIfDisposed();
            return (nint)_base;
        }
    }

    /// <summary>The whole mapping as one span (segments up to 2 GiB - 1). Valid until this lease's <see cref="Dispose"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The segment is larger than <see cref="int.MaxValue"/> bytes: use <see cref="GetSpan(long, int)"/>.</exception>
    /// <exception cref="ObjectDisposedException">The lease has been disposed.</exception>
    [UnscopedRef]
    public readonly Span<byte> Span
    {
        get
        {
            ThrowIfDisposed();
            return new Span<byte>(_base, AttachedRegion.CheckSpanLength(_length));
        }
    }

    /// <summary>A span over <paramref name="length"/> bytes at <paramref name="offset"/>. Valid until this lease's <see cref="Dispose"/>.</summary>
    /// <param name="offset">Byte offset from the start of the segment.</param>
    /// <param name="length">Number of bytes.</param>
    /// <returns>A span into shared memory.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the segment.</exception>
    /// <exception cref="ObjectDisposedException">The lease has been disposed.</exception>
    [UnscopedRef]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Span<byte> GetSpan(long offset, int length) => new(Check(offset, length), length);

    /// <summary>A span of <paramref name="count"/> values of <typeparamref name="T"/> at <paramref name="offset"/> (any alignment). Valid until this lease's <see cref="Dispose"/>.</summary>
    /// <typeparam name="T">An unmanaged type with the same layout in every process.</typeparam>
    /// <param name="offset">Byte offset from the start of the segment.</param>
    /// <param name="count">Number of values.</param>
    /// <returns>A span into shared memory.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The values do not fit inside the segment, or <paramref name="count"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The lease has been disposed.</exception>
    [UnscopedRef]
    public readonly Span<T> GetSpan<T>(long offset, int count)
        where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return new Span<T>(Check(offset, (long)count * sizeof(T)), count);
    }

    /// <summary>
    /// A reference to the value at <paramref name="offset"/>, at any alignment, for plain in-place reads and writes.
    /// Valid until this lease's <see cref="Dispose"/>. For <see cref="System.Threading.Volatile"/> or
    /// <see cref="System.Threading.Interlocked"/> use <see cref="GetAlignedRef{T}"/>.
    /// </summary>
    /// <typeparam name="T">An unmanaged type with the same layout in every process.</typeparam>
    /// <param name="offset">Byte offset from the start of the segment.</param>
    /// <returns>A ref into shared memory.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit inside the segment.</exception>
    /// <exception cref="ObjectDisposedException">The lease has been disposed.</exception>
    [UnscopedRef]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly ref T GetRef<T>(long offset)
        where T : unmanaged => ref Unsafe.AsRef<T>(Check(offset, sizeof(T)));

    /// <summary>
    /// A reference to the naturally aligned value at <paramref name="offset"/>, for
    /// <see cref="System.Threading.Volatile"/> and <see cref="System.Threading.Interlocked"/>. Valid until this
    /// lease's <see cref="Dispose"/>. Natural alignment is the size of <typeparamref name="T"/> for 1, 2, 4 and 8
    /// bytes, otherwise the largest power of two up to 8 that divides its size.
    /// </summary>
    /// <typeparam name="T">An unmanaged type with the same layout in every process.</typeparam>
    /// <param name="offset">Byte offset from the start of the segment.</param>
    /// <returns>A ref into shared memory.</returns>
    /// <exception cref="SharedMemoryAlignmentException">The address is not naturally aligned for <typeparamref name="T"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit inside the segment.</exception>
    /// <exception cref="ObjectDisposedException">The lease has been disposed.</exception>
    [UnscopedRef]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly ref T GetAlignedRef<T>(long offset)
        where T : unmanaged
    {
        byte* p = Check(offset, sizeof(T));
        int alignment = NaturalAlignment<T>();
        if (((nuint)p & (nuint)(alignment - 1)) != 0)
        {
            ThrowMisaligned(offset, alignment, typeof(T), (nint)p);
        }

        return ref Unsafe.AsRef<T>(p);
    }

    /// <summary>Ends the lease: gives back its reference, so the segment can be detached once the attachment is disposed. Idempotent for this variable.</summary>
    public void Dispose()
    {
        var handle = _handle;
        if (handle is not null)
        {
            _handle = null;
            handle.DangerousRelease();
        }
    }

    /// <summary>The natural alignment the lease checks: size for 1/2/4/8 bytes, else the largest power of two up to 8 dividing the size.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int NaturalAlignment<T>()
        where T : unmanaged => Math.Min(8, sizeof(T) & -sizeof(T)); // x & -x: the lowest set bit, the largest power of two dividing x

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly byte* Check(long offset, long length)
    {
        ThrowIfDisposed();
        AttachedRegion.CheckBounds(offset, length, _length);
        return _base + offset;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void ThrowIfDisposed()
    {
        if (_handle is null)
        {
            ThrowDisposed();
        }
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDisposed() =>
        throw new ObjectDisposedException(objectName: null,
            "The lease has been disposed (or was never acquired): its spans and refs are no longer valid. Acquire a new lease from an undisposed attachment.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowMisaligned(long offset, int alignment, Type type, nint address) =>
        throw new SharedMemoryAlignmentException(
            string.Create(CultureInfo.InvariantCulture,
                $"Offset {offset} is not {alignment}-byte aligned for {type.Name} (address 0x{address:x} is {address & (alignment - 1)} bytes past a multiple of {alignment}). Volatile and Interlocked need natural alignment: a misaligned atomic is a split lock on x64 and faults (SIGBUS) on arm64. Use an offset that is a multiple of {alignment}, or GetRef for plain access."),
            nameof(offset),
            offset,
            alignment);
}
