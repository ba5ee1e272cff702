using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace ShmKit.Tests;

/// <summary>
/// The test message format of the queue tests, shared by the tests and the child program (linked into both):
/// producer id (4), sequence (8), length (4), checksum (8), then a payload pattern derived from producer and
/// sequence. The checksum (FNV-1a 64 over everything but itself) catches torn, stale and misplaced bytes.
/// </summary>
internal static class QueueMessages
{
    /// <summary>Bytes of the header; the shortest test message.</summary>
    public const int Header = 24;

    /// <summary>Fills <paramref name="message"/> (at least <see cref="Header"/> bytes).</summary>
    public static void Fill(Span<byte> message, int producer, long sequence)
    {
        BinaryPrimitives.WriteInt32LittleEndian(message, producer);
        BinaryPrimitives.WriteInt64LittleEndian(message[4..], sequence);
        BinaryPrimitives.WriteInt32LittleEndian(message[12..], message.Length);
        ulong word = Seed(producer, sequence);
        Span<byte> payload = message[Header..];
        Span<ulong> words = MemoryMarshal.Cast<byte, ulong>(payload);
        for (int i = 0; i < words.Length; i++)
        {
            words[i] = word + (ulong)i;
        }

        for (int i = words.Length * 8; i < payload.Length; i++)
        {
            payload[i] = (byte)(word + (ulong)i);
        }

        BinaryPrimitives.WriteUInt64LittleEndian(message[16..], Checksum(message));
    }

    /// <summary>Checks a message made by <see cref="Fill"/>; returns (producer, sequence) or throws <see cref="InvalidDataException"/>.</summary>
    public static (int Producer, long Sequence) Verify(ReadOnlySpan<byte> message)
    {
        if (message.Length < Header)
        {
            throw new InvalidDataException($"message of {message.Length} bytes is shorter than the test header");
        }

        int producer = BinaryPrimitives.ReadInt32LittleEndian(message);
        long sequence = BinaryPrimitives.ReadInt64LittleEndian(message[4..]);
        int length = BinaryPrimitives.ReadInt32LittleEndian(message[12..]);
        ulong checksum = BinaryPrimitives.ReadUInt64LittleEndian(message[16..]);
        if (length != message.Length || checksum != Checksum(message))
        {
            throw new InvalidDataException($"corrupted message: producer {producer} sequence {sequence} length {length}/{message.Length}");
        }

        return (producer, sequence);
    }

    private static ulong Seed(int producer, long sequence) => ((ulong)(uint)producer * 0x9E3779B97F4A7C15UL) ^ ((ulong)sequence * 0xC2B2AE3D27D4EB4FUL);

    /// <summary>FNV-1a style over 64-bit words (bytes 0..15, then the payload; the checksum field itself excluded).</summary>
    private static ulong Checksum(ReadOnlySpan<byte> message)
    {
        ulong hash = 14695981039346656037;
        hash = (hash ^ BinaryPrimitives.ReadUInt64LittleEndian(message)) * 1099511628211;
        hash = (hash ^ BinaryPrimitives.ReadUInt64LittleEndian(message[8..])) * 1099511628211;
        ReadOnlySpan<byte> payload = message[Header..];
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(payload);
        for (int i = 0; i < words.Length; i++)
        {
            hash = (hash ^ words[i]) * 1099511628211;
        }

        for (int i = words.Length * 8; i < payload.Length; i++)
        {
            hash = (hash ^ payload[i]) * 1099511628211;
        }

        return hash;
    }
}
