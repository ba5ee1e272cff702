using CsCheck;
using ShmKit.Tests.Memory;
using Xunit.Abstractions;

namespace ShmKit.Tests.Channels;

/// <summary>
/// Generated garbage (CsCheck) over a queue's header, configuration, index blocks, latches and records, with messages
/// in flight across the wrap. Every use must either work (harmless garbage: a counter, a payload byte) or fail with
/// one of the specific exceptions, within a per-case timeout, and must never write outside the queue's structure
/// (the rest of the segment, including a second queue, is compared byte for byte after every case).
/// </summary>
public sealed class ShmQueueGarbageTests(ITestOutputHelper output)
{
    private const long Capacity = 4096;
    private static readonly TimeSpan s_perCase = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(ShmQueueMode.SingleProducerSingleConsumer)]
    [InlineData(ShmQueueMode.MultiProducerMultiConsumer)]
    public void Garbage_Over_Header_Indices_And_Records_Is_Rejected_Specifically_Or_Harmless(ShmQueueMode mode)
    {
        using var cleanup = new IpcCleanup();
        using var segment = QueueTestSupport.CreateSegment(cleanup, Capacity, queues: 2);
        long offset;
        long end;
        using (var queue = ShmQueue.Create(segment, "victim", new ShmQueueOptions { Capacity = Capacity, Mode = mode }))
        using (var bystander = ShmQueue.Create(segment, "bystander", new ShmQueueOptions { Capacity = Capacity, Mode = mode }))
        {
            offset = queue.Offset;
            end = offset + 1024 + Capacity;
            Populate(queue);
            Populate(bystander);
        }

        using var raw = segment.Segment.Attach();
        byte[] pristine = raw.Copy(0, checked((int)raw.Length));
        (long Start, long Length)[] regions =
        [
            (0, 64),                 // StructureHeader
            (64, 64),                // config and role words
            (128, 128),              // producer block: tail and counters
            (256, 128),              // consumer block: head, counters, leasedUntil
            (384, 256),              // the eventcounts
            (640, 256),              // MPMC latches, readCursor, redelivery hint
            (1024, Capacity),        // the ring: record headers and payloads
        ];
        long[] indices = [128, 256, 296, 776, 784, 640, 768, 96, 104];
        var outcomes = new Dictionary<string, int>();

        // A case: random bytes somewhere in a region; or an index set to a random value, or moved by a small step.
        Gen<(int Region, int Position, byte[] Bytes, int Kind, long Value)> cases =
            Gen.Select(Gen.Int[0, regions.Length - 1], Gen.Int[0, int.MaxValue], Gen.Byte.Array[1, 32], Gen.Int[0, 2], Gen.Long);
        cases.Sample(c =>
        {
            raw.WriteBytes(0, pristine);
            string where;
            if (c.Kind == 0)
            {
                (long start, long length) = regions[c.Region];
                long at = start + (c.Position % length);
                int count = (int)Math.Min(c.Bytes.Length, start + length - at);
                raw.WriteBytes(offset + at, c.Bytes.AsSpan(0, count));
                where = $"{count} bytes at {at}";
            }
            else
            {
                long field = indices[c.Position % indices.Length];
                long value = c.Kind == 1 ? c.Value : raw.Read<long>(offset + field) + (((c.Value % 5) - 2) * (c.Value % 3 == 0 ? Capacity : 8));
                raw.Write(offset + field, value);
                where = $"field {field} = {value}";
            }

            Task<string> use = Task.Run(() => OpenAndUse(segment));
            Assert.True(use.Wait(s_perCase), $"garbage ({where}) made the queue hang");
            string outcome = use.Result;
            AssertUnchangedOutside(raw, pristine, offset, end, where);
            lock (outcomes)
            {
                outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            }
        }, iter: 2000, threads: 1);

        output.WriteLine(string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key}: {o.Value}")));
        Assert.True(outcomes.GetValueOrDefault("ok") > 0);
        Assert.True(outcomes.GetValueOrDefault(nameof(ShmLayoutException)) > 0);
        Assert.True(outcomes.GetValueOrDefault(nameof(ShmQueueCorruptedException)) > 0);
        raw.WriteBytes(0, pristine);
        Assert.Equal("ok", OpenAndUse(segment));
    }

    /// <summary>Thirty messages of assorted sizes, twenty received: the ring wrapped, ten wait, across the end.</summary>
    private static void Populate(ShmQueue queue)
    {
        using var producer = queue.CreateProducer();
        using var consumer = queue.CreateConsumer();
        byte[] message = new byte[400];
        for (int i = 0; i < 30; i++)
        {
            int length = QueueMessages.Header + ((i * 97) % 300);
            QueueMessages.Fill(message.AsSpan(0, length), 1, i);
            producer.Enqueue(message.AsSpan(0, length));
            if (i < 20)
            {
                consumer.Receive(message, TimeSpan.FromSeconds(5));
            }
        }
    }

    /// <summary>
    /// Opens the queue without waiting, takes both roles, receives what it can (bounded), sends and receives a few.
    /// Returns "ok" or the name of a specific exception; anything else propagates and fails the case.
    /// </summary>
    private static string OpenAndUse(ManagedSegment segment)
    {
        try
        {
            using var queue = ShmQueue.Open(segment, "victim", timeout: TimeSpan.Zero);
            _ = queue.GetStatistics();
            using var consumer = queue.CreateConsumer();
            using var producer = queue.CreateProducer();
            long sum = 0;
            for (int i = 0; i < 64 && consumer.TryReceive(out ShmQueueReadLease lease); i++)
            {
                using (lease)
                {
                    foreach (byte b in lease.Span)
                    {
                        sum += b;
                    }
                }
            }

            byte[] message = new byte[100];
            for (int i = 0; i < 3; i++)
            {
                producer.TryEnqueue(message);
                consumer.TryReceive(message, out _);
            }

            return sum >= 0 ? "ok" : "unreachable";
        }
        catch (Exception e) when (e is ShmLayoutException or ShmQueueCorruptedException or ShmQueueRoleInUseException
            or ShmStructurePoisonedException or ShmStructureNotReadyException)
        {
            return e.GetType().Name;
        }
    }

    private static void AssertUnchangedOutside(SharedMemoryAttachment raw, byte[] pristine, long offset, long end, string where)
    {
        byte[] now = raw.Copy(0, pristine.Length);
        int before = now.AsSpan(0, (int)offset).CommonPrefixLength(pristine.AsSpan(0, (int)offset));
        Assert.True(before == offset, $"garbage ({where}) led to a write at segment offset {before}, before the queue");
        int after = now.AsSpan((int)end).CommonPrefixLength(pristine.AsSpan((int)end));
        Assert.True(after == pristine.Length - end, $"garbage ({where}) led to a write at segment offset {end + after}, after the queue");
    }
}
