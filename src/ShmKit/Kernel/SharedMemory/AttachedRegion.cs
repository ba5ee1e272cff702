using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using ShmKit.Interop;

namespace ShmKit;

/// <summary>
/// The bounds-checked core shared by the read-write and read-only attachments: an attach address, the segment's
/// size, and the handle that detaches. Every access goes through <see cref="Check"/>, so an offset or length
/// outside the segment is an <see cref="ArgumentOutOfRangeException"/> naming offset, length and size, never a
/// read past the mapping.
/// </summary>
internal sealed unsafe class AttachedRegion : IDisposable
{
    private readonly SafeSharedMemoryAttachHandle _handle;

    internal AttachedRegion(SafeSharedMemoryAttachHandle handle, long length)
    {
        _handle = handle;
        Base = (byte*)handle.DangerousGetHandle();
        Length = length;
    }

    internal byte* Base { get; }

    /// <summary>The handle that detaches (for Memory/'s MappedRegion, which AddRefs it; rewired to issue 7's leases at merge).</summary>
    internal SafeSharedMemoryAttachHandle Handle => _handle;

    internal long Length { get; }

    internal bool IsDisposed => _handle.IsClosed;

    /// <summary>Returns the address of <paramref name="offset"/> after checking that <paramref name="length"/> bytes fit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal byte* Check(long offset, long length)
    {
        // One unsigned comparison per bound: negative values become huge and fail the same test.
        if (_handle.IsClosed || (ulong)offset > (ulong)Length || (ulong)length > (ulong)(Length - offset))
        {
            ThrowBadAccess(offset, length);
        }

        return Base + offset;
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

    public void Dispose() => _handle.Dispose();

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowBadAccess(long offset, long length)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, typeof(SharedMemoryAttachment));
        if (offset < 0 || length < 0)
        {
            throw new ArgumentOutOfRangeException(offset < 0 ? nameof(offset) : nameof(length),
                string.Create(CultureInfo.InvariantCulture, $"Offset {offset} and length {length} must not be negative (segment size {Length} bytes)."));
        }

        throw new ArgumentOutOfRangeException(nameof(offset),
            string.Create(CultureInfo.InvariantCulture, $"Offset {offset} + length {length} = {(Int128)offset + length} is past the end of the segment (size {Length} bytes)."));
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowSpanTooLong(long length) =>
        throw new ArgumentOutOfRangeException(nameof(length),
            string.Create(CultureInfo.InvariantCulture, $"A span holds at most {int.MaxValue} bytes; {length} were asked. Use smaller slices."));
}
