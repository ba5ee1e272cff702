using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ShmKit;

/// <summary>
/// A typed offset into a segment: "a <typeparamref name="T"/> lives this many bytes from the segment's start". Store
/// it in shared memory instead of a pointer (every process maps the segment at another address) and resolve it
/// against a lease in each process.
/// </summary>
/// <typeparam name="T">An unmanaged type with the same layout in every process.</typeparam>
/// <remarks>
/// <para><b>Never trusted.</b> An offset is only a number. It is checked when it is resolved, against the real size of
/// the segment the lease maps (the size the kernel reports), never against a size or bound read from shared memory,
/// so an offset that a buggy, hostile or dead peer left behind can at worst throw
/// <see cref="ArgumentOutOfRangeException"/>; it can never reach memory outside the segment.</para>
/// <para><b>Layout.</b> Exactly one signed 64-bit integer (C's <c>int64_t</c>), so a field of this type in a shared
/// structure is blittable and a C program reads it as a plain offset.</para>
/// <para><b>Lifetime.</b> Refs and spans from <c>Resolve</c> are the lease's: valid until the lease's Dispose.</para>
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
public readonly struct ShmOffset<T> : IEquatable<ShmOffset<T>>
    where T : unmanaged
{
    private readonly long _value;

    /// <summary>Creates a typed offset. Any value is accepted here (it may come from shared memory); it is checked when resolved.</summary>
    /// <param name="value">Bytes from the start of the segment.</param>
    public ShmOffset(long value) => _value = value;

    /// <summary>Bytes from the start of the segment.</summary>
    public long Value => _value;

    /// <summary>Two offsets are equal when they name the same byte.</summary>
    /// <param name="left">One offset.</param>
    /// <param name="right">The other.</param>
    /// <returns>True when equal.</returns>
    public static bool operator ==(ShmOffset<T> left, ShmOffset<T> right) => left._value == right._value;

    /// <summary>Two offsets differ when they name different bytes.</summary>
    /// <param name="left">One offset.</param>
    /// <param name="right">The other.</param>
    /// <returns>True when different.</returns>
    public static bool operator !=(ShmOffset<T> left, ShmOffset<T> right) => left._value != right._value;

    /// <summary>The offset of the value <paramref name="count"/> places after this one in an array of <typeparamref name="T"/>.</summary>
    /// <param name="count">How many values to step over (may be negative).</param>
    /// <returns>The offset <c>Value + count * sizeof(T)</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The result does not fit in 64 bits (an index read from shared memory can be anything).</exception>
    public ShmOffset<T> Add(long count)
    {
        Int128 result = _value + ((Int128)count * Unsafe.SizeOf<T>());
        if (result > long.MaxValue || result < long.MinValue)
        {
            ThrowAddOverflow(count);
        }

        return new ShmOffset<T>((long)result);
    }

    /// <summary>The value at this offset, checked against the segment's size. Any alignment; for plain access.</summary>
    /// <param name="lease">A lease on the segment.</param>
    /// <returns>A ref into shared memory, valid until the lease's Dispose.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit inside the segment.</exception>
    /// <exception cref="ObjectDisposedException">The lease has been disposed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref T Resolve(in SharedMemoryLease lease) => ref lease.GetRef<T>(_value);

    /// <summary>The naturally aligned value at this offset, for <see cref="Volatile"/> and <see cref="Interlocked"/>.</summary>
    /// <param name="lease">A lease on the segment.</param>
    /// <returns>A ref into shared memory, valid until the lease's Dispose.</returns>
    /// <exception cref="SharedMemoryAlignmentException">The offset is not naturally aligned for <typeparamref name="T"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit inside the segment.</exception>
    /// <exception cref="ObjectDisposedException">The lease has been disposed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref T ResolveAligned(in SharedMemoryLease lease) => ref lease.GetAlignedRef<T>(_value);

    /// <summary>The value at this offset, read-only, checked against the segment's size. Any alignment; for plain access.</summary>
    /// <param name="lease">A lease on the segment.</param>
    /// <returns>A ref readonly into shared memory, valid until the lease's Dispose.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit inside the segment.</exception>
    /// <exception cref="ObjectDisposedException">The lease has been disposed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref readonly T Resolve(in ReadOnlySharedMemoryLease lease) => ref lease.GetRef<T>(_value);

    /// <summary>The naturally aligned value at this offset, read-only, for <see cref="Volatile"/> reads.</summary>
    /// <param name="lease">A lease on the segment.</param>
    /// <returns>A ref readonly into shared memory, valid until the lease's Dispose.</returns>
    /// <exception cref="SharedMemoryAlignmentException">The offset is not naturally aligned for <typeparamref name="T"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The value does not fit inside the segment.</exception>
    /// <exception cref="ObjectDisposedException">The lease has been disposed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref readonly T ResolveAligned(in ReadOnlySharedMemoryLease lease) => ref lease.GetAlignedRef<T>(_value);

    /// <summary><paramref name="count"/> values starting at this offset, checked against the segment's size.</summary>
    /// <param name="lease">A lease on the segment.</param>
    /// <param name="count">Number of values.</param>
    /// <returns>A span into shared memory, valid until the lease's Dispose.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The values do not fit inside the segment, or <paramref name="count"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The lease has been disposed.</exception>
    public Span<T> ResolveSpan(in SharedMemoryLease lease, int count) => lease.GetSpan<T>(_value, count);

    /// <summary><paramref name="count"/> values starting at this offset, read-only, checked against the segment's size.</summary>
    /// <param name="lease">A lease on the segment.</param>
    /// <param name="count">Number of values.</param>
    /// <returns>A read-only span into shared memory, valid until the lease's Dispose.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The values do not fit inside the segment, or <paramref name="count"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The lease has been disposed.</exception>
    public ReadOnlySpan<T> ResolveSpan(in ReadOnlySharedMemoryLease lease, int count) => lease.GetSpan<T>(_value, count);

    /// <inheritdoc/>
    public bool Equals(ShmOffset<T> other) => _value == other._value;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is ShmOffset<T> other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _value.GetHashCode();

    /// <summary>The type and offset, for example <c>Int64 at offset 4096</c>.</summary>
    /// <returns>A description.</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{typeof(T).Name} at offset {_value}");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowAddOverflow(long count) =>
        throw new ArgumentOutOfRangeException(nameof(count),
            string.Create(CultureInfo.InvariantCulture, $"Offset {_value} + {count} x {Unsafe.SizeOf<T>()} bytes does not fit in 64 bits."));
}
