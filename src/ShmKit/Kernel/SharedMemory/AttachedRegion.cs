using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ShmKit;

/// <summary>
/// The core shared by the read-write and read-only attachments: the attach address, the segment's size, the
/// handle whose reference count keeps the mapping alive, and the attachment's own disposed flag.
/// </summary>
/// <remarks>
/// <para>Every access is bounds-checked against the size the kernel reported for the segment, so an offset or
/// length outside it is an <see cref="ArgumentOutOfRangeException"/> naming offset, length and size, never a read
/// past the mapping.</para>
/// <para>Every access also holds a reference on the handle while it touches the memory: <see cref="Enter"/> takes
/// one (after the checks) and <see cref="Exit"/> gives it back, always in a <c>finally</c>. Leases, memory managers
/// and pins take theirs with <see cref="AddRef"/>. shmdt runs when the last reference goes, so a call racing
/// <see cref="Dispose"/> either completes on a live mapping or throws <see cref="ObjectDisposedException"/>.</para>
/// </remarks>
internal sealed unsafe class AttachedRegion : IDisposable
{
    private readonly SafeSharedMemoryAttachHandle _handle;

    // Process-local, not in shared memory. Written once, 0 -> 1, by Dispose (any thread); read by every access
    // before it takes its reference. A call that read 0 just before Dispose wrote 1 still takes (or already holds)
    // a reference, so the mapping outlives the call; if Dispose has meanwhile dropped the last reference, the
    // handle is closed and DangerousAddRef throws ObjectDisposedException instead. Either way nothing faults.
    private volatile int _disposed;

    private readonly bool _readOnly;

    internal AttachedRegion(SafeSharedMemoryAttachHandle handle, long length, bool readOnly)
    {
        _handle = handle;
        _readOnly = readOnly;
        Base = (byte*)handle.DangerousGetHandle();
        Length = length;
    }

    /// <summary>The attach address. Dereference it only while holding a reference.</summary>
    internal byte* Base { get; }

    /// <summary>The segment's size in bytes (from the kernel at open).</summary>
    internal long Length { get; }

    /// <summary>The attach address for callers who opt in to unsafe code (checked: not disposed).</summary>
    internal nint Address
    {
        get
        {
            ThrowIfDisposed();
            return (nint)Base;
        }
    }

    internal bool IsDisposed => _disposed != 0;

    internal SafeSharedMemoryAttachHandle Handle => _handle;

    /// <summary>
    /// Checks that <paramref name="length"/> bytes at <paramref name="offset"/> are inside the segment and that the
    /// attachment is not disposed, then takes a reference and returns the address. The caller must call
    /// <see cref="Exit"/> exactly once, in a <c>finally</c> that starts right after this call returns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal byte* Enter(long offset, long length)
    {
        // One unsigned comparison per bound: negative values become huge and fail the same test.
        if ((ulong)offset > (ulong)Length || (ulong)length > (ulong)(Length - offset) || _disposed != 0)
        {
            ThrowBadAccess(offset, length);
        }

        bool added = false;
        _handle.DangerousAddRef(ref added); // throws ObjectDisposedException once the last reference is gone
        return Base + offset;
    }

    /// <summary>Gives back the reference <see cref="Enter"/> or <see cref="AddRef"/> took.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Exit() => _handle.DangerousRelease();

    /// <summary>Takes a reference for a lease or a memory manager (the whole mapping); release with <see cref="Exit"/>.</summary>
    internal void AddRef()
    {
        ThrowIfDisposed();
        bool added = false;
        _handle.DangerousAddRef(ref added);
    }

    // The copying calls of both attachments: check, take a reference, copy, give the reference back (finally).

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal T Read<T>(long offset)
        where T : unmanaged
    {
        byte* p = Enter(offset, sizeof(T));
        try
        {
            return Unsafe.ReadUnaligned<T>(p);
        }
        finally
        {
            Exit();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Write<T>(long offset, in T value)
        where T : unmanaged
    {
        byte* p = Enter(offset, sizeof(T));
        try
        {
            Unsafe.WriteUnaligned(p, value);
        }
        finally
        {
            Exit();
        }
    }

    internal void ReadBytes(long offset, Span<byte> destination)
    {
        byte* p = Enter(offset, destination.Length);
        try
        {
            new ReadOnlySpan<byte>(p, destination.Length).CopyTo(destination);
        }
        finally
        {
            Exit();
        }
    }

    internal void WriteBytes(long offset, ReadOnlySpan<byte> source)
    {
        byte* p = Enter(offset, source.Length);
        try
        {
            source.CopyTo(new Span<byte>(p, source.Length));
        }
        finally
        {
            Exit();
        }
    }

    internal void Clear(long offset, long length)
    {
        byte* p = Enter(offset, length);
        try
        {
            NativeMemory.Clear(p, (nuint)length);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Takes a further reference for a holder that already has one (a memory manager's pin): the mapping is alive, so
    /// the attachment's own disposed flag does not matter. Release with <see cref="Exit"/>.
    /// </summary>
    internal void AddRefWhileHeld()
    {
        bool added = false;
        _handle.DangerousAddRef(ref added);
    }

    /// <summary>Marks the attachment disposed and drops its own reference; shmdt runs when the last reference goes.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _handle.Dispose();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int CheckSpanLength(long length)
    {
        if ((ulong)length > int.MaxValue)
        {
            ThrowSpanTooLong(length);
        }

        return (int)length;
    }

    /// <summary>The bounds part of the check, for leases (which hold their reference already).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void CheckBounds(long offset, long length, long size)
    {
        if ((ulong)offset > (ulong)size || (ulong)length > (ulong)(size - offset))
        {
            ThrowOutOfRange(offset, length, size);
        }
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowOutOfRange(long offset, long length, long size)
    {
        if (offset < 0 || length < 0)
        {
            throw new ArgumentOutOfRangeException(offset < 0 ? nameof(offset) : nameof(length),
                string.Create(CultureInfo.InvariantCulture, $"Offset {offset} and length {length} must not be negative (segment size {size} bytes)."));
        }

        throw new ArgumentOutOfRangeException(nameof(offset),
            string.Create(CultureInfo.InvariantCulture, $"Offset {offset} + length {length} = {(Int128)offset + length} is past the end of the segment (size {size} bytes)."));
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowSpanTooLong(long length) =>
        throw new ArgumentOutOfRangeException(nameof(length),
            string.Create(CultureInfo.InvariantCulture, $"A span holds at most {int.MaxValue} bytes; {length} were asked. Use GetSpan for slices of at most that size."));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ThrowIfDisposed()
    {
        if (_disposed != 0)
        {
            ThrowDisposed();
        }
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowDisposed() =>
        throw new ObjectDisposedException(_readOnly ? nameof(ReadOnlySharedMemoryAttachment) : nameof(SharedMemoryAttachment),
            "The attachment has been disposed (detached); attach the segment again to use it.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowBadAccess(long offset, long length)
    {
        ThrowIfDisposed();
        ThrowOutOfRange(offset, length, Length);
    }
}
