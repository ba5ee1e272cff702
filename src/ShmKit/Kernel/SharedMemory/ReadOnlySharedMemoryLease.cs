using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>
/// A lease on the mapping of a <see cref="ReadOnlySharedMemoryAttachment"/>: the only source of read-only spans and
/// <c>ref readonly</c> refs into it. While a lease is undisposed the mapping stays: disposing the attachment, or its
/// finalizer, defers the detach (shmdt) until the last lease ends.
/// </summary>
/// <remarks>
/// The rules of <see cref="SharedMemoryLease"/> apply word for word: every span and ref is valid until this lease's
/// <see cref="Dispose"/> and no longer; use it as <c>using var lease = attachment.Acquire();</c> and dispose exactly
/// one copy, once; a lease never disposed keeps the segment attached until the process exits. The pages are mapped
/// without write permission, so nothing here can write; the bytes are still shared, and another process may change
/// them at any time.
/// </remarks>
public ref struct ReadOnlySharedMemoryLease
{
    // The read-write lease does the work; it never leaves this struct, so no writable span of these pages exists.
    private SharedMemoryLease _lease;

    internal ReadOnlySharedMemoryLease(AttachedRegion region) => _lease = new SharedMemoryLease(region);

    /// <inheritdoc cref="SharedMemoryLease.Length"/>
    public readonly long Length => _lease.Length;

    /// <summary>
    /// The attach address in this process, for unsafe code that opts in; the pages are mapped without write
    /// permission (a write through it kills the process). Valid until this lease's <see cref="Dispose"/>.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The lease has been disposed.</exception>
    public readonly nint Address => _lease.Address;

    /// <summary>The whole mapping as one read-only span (segments up to 2 GiB - 1). Valid until this lease's <see cref="Dispose"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The segment is larger than <see cref="int.MaxValue"/> bytes: use <see cref="GetSpan(long, int)"/>.</exception>
    /// <exception cref="ObjectDisposedException">The lease has been disposed.</exception>
    [UnscopedRef]
    public readonly ReadOnlySpan<byte> Span => _lease.Span;

    /// <summary>A read-only span over <paramref name="length"/> bytes at <paramref name="offset"/>. Valid until this lease's <see cref="Dispose"/>.</summary>
    /// <param name="offset">Byte offset from the start of the segment.</param>
    /// <param name="length">Number of bytes.</param>
    /// <returns>A span into shared memory.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the segment.</exception>
    /// <exception cref="ObjectDisposedException">The lease has been disposed.</exception>
    [UnscopedRef]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly ReadOnlySpan<byte> GetSpan(long offset, int length) => _lease.GetSpan(offset, length);

    /// <summary>A read-only span of <paramref name="count"/> values at <paramref name="offset"/> (any alignment). Valid until this lease's <see cref="Dispose"/>.</summary>
    /// <typeparam name="T">An unmanaged type with the same layout in every process.</typeparam>
    /// <param name="offset">Byte offset from the start of the segment.</param>
    /// <param name="count">Number of values.</param>
    /// <returns>A span into shared memory.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The values do not fit inside the segment, or <paramref name="count"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The lease has been disposed.</exception>
    [UnscopedRef]
    public readonly ReadOnlySpan<T> GetSpan<T>(long offset, int count)
        where T : unmanaged => _lease.GetSpan<T>(offset, count);

    /// <summary>A read-only reference to the value at <paramref name="offset"/> (any alignment, for plain reads). Valid until this lease's <see cref="Dispose"/>.</summary>
    /// <typeparam name="T">An unmanaged type with the same layout in every process.</typeparam>
    /// <param name="offset">Byte offset from the start of the segment.</param>
    /// <returns>A ref readonly into shared memory.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit inside the segment.</exception>
    /// <exception cref="ObjectDisposedException">The lease has been disposed.</exception>
    [UnscopedRef]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly ref readonly T GetRef<T>(long offset)
        where T : unmanaged => ref _lease.GetRef<T>(offset);

    /// <summary>
    /// A read-only reference to the naturally aligned value at <paramref name="offset"/>, for
    /// <see cref="System.Threading.Volatile.Read(ref readonly long)"/> and friends. Valid until this lease's
    /// <see cref="Dispose"/>. See <see cref="SharedMemoryLease.GetAlignedRef{T}"/> for the alignment rule.
    /// </summary>
    /// <typeparam name="T">An unmanaged type with the same layout in every process.</typeparam>
    /// <param name="offset">Byte offset from the start of the segment.</param>
    /// <returns>A ref readonly into shared memory.</returns>
    /// <exception cref="SharedMemoryAlignmentException">The address is not naturally aligned for <typeparamref name="T"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit inside the segment.</exception>
    /// <exception cref="ObjectDisposedException">The lease has been disposed.</exception>
    [UnscopedRef]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly ref readonly T GetAlignedRef<T>(long offset)
        where T : unmanaged => ref _lease.GetAlignedRef<T>(offset);

    /// <summary>Ends the lease: gives back its reference, so the segment can be detached once the attachment is disposed. Idempotent for this variable.</summary>
    public void Dispose() => _lease.Dispose();
}
