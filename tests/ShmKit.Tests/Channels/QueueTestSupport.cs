using System.Buffers.Binary;

namespace ShmKit.Tests.Channels;

/// <summary>Queues for tests (each in a private or test-keyed managed segment that is removed at the end) and the test message format.</summary>
internal static class QueueTestSupport
{
    /// <summary>Bytes of the test message header: producer id (4), sequence (8), length (4), checksum (8).</summary>
    internal const int MessageHeader = 24;

    /// <summary>A managed segment with room for queues of up to <paramref name="capacity"/> bytes (a few of them).</summary>
    internal static ManagedSegment CreateSegment(IpcCleanup cleanup, long capacity = 64 * 1024, int queues = 2)
    {
        var options = new ManagedSegmentOptions { ParticipantCapacity = 64, DirectoryCapacity = 8 };
        long size = ManagedSegment.GetMinimumSize(options) + (queues * (capacity + 1024 + 128)) + 4096;
        var segment = ManagedSegment.Create(cleanup.NewKey(), size, options);
        return segment;
    }

    /// <summary>
    /// Fills <paramref name="message"/> (at least <see cref="MessageHeader"/> bytes): producer id, sequence, length, a
    /// payload pattern derived from them, and an FNV-1a 64 checksum of everything else.
    /// </summary>
    internal static void Fill(Span<byte> message, int producer, long sequence)
    {
        BinaryPrimitives.WriteInt32LittleEndian(message, producer);
        BinaryPrimitives.WriteInt64LittleEndian(message[4..], sequence);
        BinaryPrimitives.WriteInt32LittleEndian(message[12..], message.Length);
        byte seed = (byte)((producer * 31) + sequence);
        for (int i = MessageHeader; i < message.Length; i++)
        {
            message[i] = (byte)(seed + i);
        }

        BinaryPrimitives.WriteUInt64LittleEndian(message[16..], Checksum(message));
    }

    /// <summary>Checks a message made by <see cref="Fill"/>; returns (producer, sequence) or throws.</summary>
    internal static (int Producer, long Sequence) Verify(ReadOnlySpan<byte> message)
    {
        if (message.Length < MessageHeader)
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

    private static ulong Checksum(ReadOnlySpan<byte> message)
    {
        ulong hash = 14695981039346656037;
        for (int i = 0; i < message.Length; i++)
        {
            if (i is >= 16 and < 24)
            {
                continue;
            }

            hash = (hash ^ message[i]) * 1099511628211;
        }

        return hash;
    }
}
