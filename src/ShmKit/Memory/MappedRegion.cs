using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ShmKit;

/// <summary>
/// The Memory/ layer's internal view of one attachment: base address, the segment's real size (from IPC_STAT, never
/// from the segment's own bytes), and the attachment's reference count, which every operation takes for its duration
/// through <see cref="Acquire"/> (the same reference a public <see cref="SharedMemoryLease"/> takes). Structures use
/// it instead of the public lease because they need futex word pointers and aligned refs at validated offsets.
/// </summary>
/// <remarks>
/// <para><b>Lifetime.</b> The attachment (shmdt) happens when its owner disposes it AND every lease is released:
/// SafeHandle's reference count defers the release. So the pages can never be unmapped under a lease holder, a
/// futex waiter (which holds a lease while it sleeps) or an initializer callback. <see cref="Acquire"/> after the
/// owner disposed throws <see cref="ObjectDisposedException"/>.</para>
/// <para><b>Bounds.</b> Every accessor checks offset and length against <see cref="Length"/>, and the atomic
/// accessors check natural alignment. Offsets read from shared memory are validated by the caller first (with a
/// <see cref="ShmLayoutException"/> naming the field); the checks here are the last line of defence and throw
/// <see cref="ArgumentOutOfRangeException"/>.</para>
/// </remarks>
internal sealed unsafe class MappedRegion
{
    private readonly AttachedRegion _attached;
    private readonly byte* _base;

    internal MappedRegion(SharedMemoryAttachment attachment)
    {
        _attached = attachment.Region;
        _base = _attached.Base;
        Length = attachment.Length;
    }

    /// <summary>The segment's size in bytes, as the kernel reports it.</summary>
    internal long Length { get; }

    /// <summary>Takes a reference on the mapping for the duration of one operation (use with <c>using</c>).</summary>
    /// <exception cref="ObjectDisposedException">The attachment has been disposed.</exception>
    internal RegionLease Acquire()
    {
        _attached.AddRef(); // ObjectDisposedException once the attachment is disposed
        return new RegionLease(this, _base, Length);
    }

    /// <summary>True once the attachment has been disposed (its owner detached it; references may still keep it mapped).</summary>
    internal bool IsDisposed => _attached.IsDisposed;

    /// <summary>
    /// Takes a reference that outlives any one lease (a lock holder's, an asynchronous wait's): the mapping stays until
    /// the matching <see cref="Release"/>. Pointers computed from a lease stay valid while it is held.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The attachment has been disposed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void AddReference() => _attached.AddRef();

    /// <summary>Gives back a reference taken by <see cref="Acquire"/> (through the lease) or <see cref="AddReference"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Release() => _attached.Exit();
}

/// <summary>
/// One reference on a <see cref="MappedRegion"/>'s mapping: valid until disposed, and every pointer, ref or span it
/// hands out is valid only until then. A ref struct so it cannot be stored or captured; dispose it exactly once.
/// </summary>
internal readonly unsafe ref struct RegionLease
{
    private readonly MappedRegion? _region;
    private readonly byte* _base;

    internal RegionLease(MappedRegion region, byte* baseAddress, long length)
    {
        _region = region;
        _base = baseAddress;
        Length = length;
    }

    /// <summary>The segment's real size.</summary>
    internal long Length { get; }

    /// <summary>A naturally aligned ref for Volatile/Interlocked (T of 1, 2, 4 or 8 bytes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref T Ref<T>(long offset)
        where T : unmanaged
    {
        if ((offset & (sizeof(T) - 1)) != 0)
        {
            ThrowMisaligned(offset, sizeof(T));
        }

        return ref Unsafe.AsRef<T>(Pointer(offset, sizeof(T)));
    }

    /// <summary>The address of a 4-byte aligned 32-bit word, for futex calls.</summary>
    internal int* Word(long offset) => (int*)Unsafe.AsPointer(ref Ref<int>(offset));

    /// <summary>The address of <paramref name="offset"/> after checking that <paramref name="length"/> bytes fit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal byte* Pointer(long offset, long length)
    {
        if ((ulong)offset > (ulong)Length || (ulong)length > (ulong)(Length - offset))
        {
            ThrowOutOfRange(offset, length);
        }

        return _base + offset;
    }

    /// <summary>A span over <paramref name="length"/> bytes at <paramref name="offset"/>.</summary>
    internal Span<byte> Span(long offset, int length) => new(Pointer(offset, length), length);

    public void Dispose() => _region?.Release();

    [DoesNotReturn]
    private void ThrowOutOfRange(long offset, long length) =>
        throw new ArgumentOutOfRangeException(nameof(offset),
            string.Create(CultureInfo.InvariantCulture, $"Offset {offset} and length {length} are outside the segment ({Length} bytes)."));

    [DoesNotReturn]
    private static void ThrowMisaligned(long offset, int size) =>
        throw new ArgumentOutOfRangeException(nameof(offset),
            string.Create(CultureInfo.InvariantCulture, $"Offset {offset} is not aligned to {size} bytes, as an atomic access needs."));
}
