using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace ShmKit.Bench;

/// <summary>
/// The message format and its verification, the same for every transport (and in the C program of raw-c).
/// </summary>
/// <remarks>
/// A message is <c>n</c> 64-bit words: word 0 = sequence number, word n-1 = sequence x <see cref="Mix"/>, word 1 = a
/// checksum chosen so that the XOR of all n words is zero, words 2..n-2 a fixed pattern (written once into the
/// producer's private buffer). The producer's cost per message is O(1) plus the copy into the transport; the consumer
/// copies the message out of the transport into a private buffer and XORs every word, so a lost, repeated, stale or
/// torn message (or a corrupted byte anywhere) is caught. XOR (not a sum) so the check vectorizes without a carry chain.
/// </remarks>
internal static unsafe class MessageCodec
{
    /// <summary>An odd 64-bit constant (the golden ratio), so word n-1 differs from word 0 in every bit pattern.</summary>
    internal const ulong Mix = 0x9E3779B97F4A7C15UL;

    /// <summary>Fills the fixed words 2..n-2 of <paramref name="message"/> and returns their XOR.</summary>
    internal static ulong Prepare(byte* message, int size)
    {
        ulong* w = (ulong*)message;
        int n = size / 8;
        ulong x = 0;
        for (int i = 2; i < n - 1; i++)
        {
            w[i] = ((ulong)i * 0x0123456789ABCDEFUL) + 0x5555UL;
            x ^= w[i];
        }

        return x;
    }

    /// <summary>Writes the sequence number, the trailer and the checksum (three words) into a prepared message.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Stamp(byte* message, int size, ulong sequence, ulong middleXor)
    {
        ulong* w = (ulong*)message;
        ulong trailer = sequence * Mix;
        w[0] = sequence;
        w[((uint)size / 8) - 1] = trailer;
        w[1] = sequence ^ trailer ^ middleXor;
    }

    /// <summary>True when the message carries <paramref name="sequence"/> and all its words XOR to zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Verify(byte* message, int size, ulong sequence)
    {
        ulong* w = (ulong*)message;
        int n = (int)((uint)size / 8);
        return w[0] == sequence && w[n - 1] == sequence * Mix && XorAll(w, n) == 0;
    }

    /// <summary>
    /// Copies a message (a multiple of 64 bytes), with the strategy of .NET's own <see cref="Buffer.MemoryCopy"/> made
    /// explicit so the C program can do exactly the same: up to 2 KiB inline 64-byte blocks of vector moves (for a
    /// 64-byte message two 32-byte moves, no call, no size dispatch), above that Buffer.MemoryCopy, which hands large
    /// copies to the C library's memmove (`rep movsb` on this CPU: 11 GB/s against 6 GB/s for vector blocks in a 4 KiB ring).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Copy(byte* destination, byte* source, int size)
    {
        if (size > 2048 || !Vector256.IsHardwareAccelerated)
        {
            CopyLarge(destination, source, size);
            return;
        }

        for (int i = 0; i < size; i += 64)
        {
            Vector256.Load(source + i).Store(destination + i);
            Vector256.Load(source + i + 32).Store(destination + i + 32);
        }
    }

    /// <summary>Out of line, so the call and its checks stay off the registers of the 64-byte hot loops.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void CopyLarge(byte* destination, byte* source, int size) => Buffer.MemoryCopy(source, destination, size, size);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong XorAll(ulong* w, int n)
    {
        int i = 0;
        ulong x = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            // Two accumulators: loads, not the XOR chain, are the limit.
            Vector256<ulong> a = Vector256<ulong>.Zero;
            Vector256<ulong> b = Vector256<ulong>.Zero;
            for (; i + 8 <= n; i += 8)
            {
                a ^= Vector256.Load(w + i);
                b ^= Vector256.Load(w + i + 4);
            }

            a ^= b;
            x = a.GetElement(0) ^ a.GetElement(1) ^ a.GetElement(2) ^ a.GetElement(3);
        }
        else if (Vector128.IsHardwareAccelerated && n >= 2)
        {
            Vector128<ulong> a = Vector128<ulong>.Zero;
            for (; i + 2 <= n; i += 2)
            {
                a ^= Vector128.Load(w + i);
            }

            x = a.GetElement(0) ^ a.GetElement(1);
        }

        for (; i < n; i++)
        {
            x ^= w[i];
        }

        return x;
    }
}

/// <summary>
/// A message copy strategy as a type parameter: loops generic over a struct implementing it are compiled once per
/// strategy, so the 64-byte loop contains no call at all (calls force the JIT to keep loop variables in stack slots).
/// </summary>
internal unsafe interface IMessageCopy
{
    public static abstract void Copy(byte* destination, byte* source, int size);
}

/// <summary>Inline 64-byte blocks of vector moves (messages up to 2 KiB; see <see cref="MessageCodec.Copy"/>).</summary>
internal readonly unsafe struct BlockCopy : IMessageCopy
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(byte* destination, byte* source, int size)
    {
        for (int i = 0; i < size; i += 64)
        {
            Vector256.Load(source + i).Store(destination + i);
            Vector256.Load(source + i + 32).Store(destination + i + 32);
        }
    }
}

/// <summary>The runtime's memmove (the C library's for large sizes), for messages above 2 KiB.</summary>
internal readonly unsafe struct LibraryCopy : IMessageCopy
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(byte* destination, byte* source, int size) => Buffer.MemoryCopy(source, destination, size, size);
}

/// <summary>The CPU's spin-wait hint (x86 <c>pause</c>, Arm <c>yield</c>), as the C program uses.</summary>
internal static class SpinHint
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Pause()
    {
        if (X86Base.IsSupported)
        {
            X86Base.Pause();
        }
        else if (ArmBase.IsSupported)
        {
            ArmBase.Yield();
        }
    }
}
