using System.Globalization;

namespace ShmKit.Tests.Channels;

/// <summary>
/// A queue in a keyed managed segment, a scoreboard, and the producer and consumer processes of a cross-process
/// test (ShmKit.TestChild's queue-produce and queue-consume). Dispose kills what still runs and removes everything.
/// </summary>
internal sealed class QueueRig : IDisposable
{
    internal const string QueueName = "rig";

    private readonly IpcCleanup _cleanup = new();
    private readonly List<ChildProcess> _children = [];
    private int _nextSlot;

    internal QueueRig(ShmQueueMode mode, long capacity, int maxProducers, int perProducer, int maxChildren)
    {
        Key = _cleanup.NewKey();
        var options = new ManagedSegmentOptions { ParticipantCapacity = 64, DirectoryCapacity = 4 };
        Segment = ManagedSegment.Create(Key, ManagedSegment.GetMinimumSize(options) + capacity + 4096, options);
        Queue = ShmQueue.Create(Segment, QueueName, new ShmQueueOptions { Capacity = capacity, Mode = mode });
        Results = QueueResults.Create(maxProducers, perProducer, maxChildren);
        _cleanup.Add(Results.Segment);
    }

    /// <summary>More of everything when SHMKIT_STRESS=1 (the stress run); the default run stays fast.</summary>
    internal static bool Stress => Environment.GetEnvironmentVariable("SHMKIT_STRESS") == "1";

    internal IpcKey Key { get; }

    internal ManagedSegment Segment { get; }

    internal ShmQueue Queue { get; }

    internal QueueResults Results { get; }

    internal string ResultsId => Results.Segment.Id.ToString(CultureInfo.InvariantCulture);

    /// <summary>Starts a producer child; returns it and its progress slot.</summary>
    internal (ChildProcess Child, int Slot) StartProducer(int producerId, long count, int minSize, int maxSize, string? mode = null)
    {
        int slot = _nextSlot++;
        var child = ChildProcess.StartChild("queue-produce", [Key.ToString(), QueueName, I(producerId), I(count), I(minSize), I(maxSize), ResultsId, I(slot), .. mode is null ? Array.Empty<string>() : [mode]]);
        _children.Add(child);
        return (child, slot);
    }

    /// <summary>Starts a consumer child; returns it and its progress slot.</summary>
    internal (ChildProcess Child, int Slot) StartConsumer(int consumerId, long expectedTotal, string? mode = null)
    {
        int slot = _nextSlot++;
        var child = ChildProcess.StartChild("queue-consume", [Key.ToString(), QueueName, I(consumerId), ResultsId, I(slot), I(expectedTotal), .. mode is null ? Array.Empty<string>() : [mode]]);
        _children.Add(child);
        return (child, slot);
    }

    /// <summary>Waits for a child to exit 0 with nothing on stderr.</summary>
    internal static void ExpectClean(ChildProcess child, TimeSpan timeout)
    {
        int code = child.WaitForExit(timeout);
        Assert.True(code == 0 && child.StandardError.Length == 0, $"child {child.Id} exited {code}:\n{child.StandardError}\n{child.StandardOutput}");
    }

    /// <summary>
    /// Checks the scoreboard: every sequence below committed[p] delivered, none delivered normally twice, nothing at
    /// or beyond committed[p] + 1 (a message whose commit the producer could not record before it died may be there).
    /// Returns (deliveries, redeliveries).
    /// </summary>
    internal (long Delivered, long Redelivered) VerifyScoreboard(int producers, bool allowRedelivery)
    {
        long delivered = 0;
        long redelivered = 0;
        for (int p = 0; p < producers; p++)
        {
            long committed = Volatile.Read(ref Results.Committed(p));
            long limit = Math.Min(committed + 1, Results.PerProducer);
            for (long s = 0; s < Results.PerProducer; s++)
            {
                int d = Volatile.Read(ref Results.Deliveries(p, s));
                int normal = d & 0xFFFF;
                int again = d >>> 16;
                if (s < committed)
                {
                    Assert.True(d != 0, $"producer {p} sequence {s} (committed {committed}) was lost");
                }

                if (s >= limit)
                {
                    Assert.True(d == 0, $"producer {p} sequence {s} was delivered but never committed (committed {committed})");
                }

                Assert.True(normal <= 1, $"producer {p} sequence {s} was delivered {normal} times without the redelivery flag");
                if (!allowRedelivery)
                {
                    Assert.True(again == 0, $"producer {p} sequence {s} was redelivered although no consumer died");
                }

                delivered += normal + again;
                redelivered += again;
            }
        }

        return (delivered, redelivered);
    }

    public void Dispose()
    {
        foreach (ChildProcess child in _children)
        {
            child.Dispose();
        }

        Queue.Dispose();
        Results.Dispose();
        Segment.Dispose();
        _cleanup.Dispose();
    }

    private static string I(long value) => value.ToString(CultureInfo.InvariantCulture);
}
