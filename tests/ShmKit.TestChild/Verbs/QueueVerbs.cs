using System.Globalization;
using ShmKit.Tests;

namespace ShmKit.TestChild;

/// <summary>
/// The other processes of the queue tests (tests/ShmKit.Tests/Channels). Producers and consumers open a queue in a
/// managed segment by key and record what they did in a <see cref="QueueResults"/> scoreboard (a private segment
/// given by id). Each ends when its stdin closes (the test process died), so none outlives the test.
/// </summary>
internal static class QueueVerbs
{
    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Args: key name producerId count minSize maxSize resultsId progressSlot [fill-stall | work=N]. Sends sequences 0..count-1
    /// (sizes random in minSize..maxSize, seeded by producerId) through Reserve / fill in place / Commit, recording
    /// committed[producerId] after each commit; stops early when producersStop is set. Prints READY, then DONE n.
    /// With "fill-stall" it reserves one message, fills half of it, prints STALLED and waits (to be killed); with
    /// "work=N" it spins N iterations inside each reservation (so that kills land there often).
    /// </summary>
    [Verb("queue-produce")]
    public static int Produce(string[] args)
    {
        WatchParent();
        using var segment = ManagedSegment.Open(IpcKey.Parse(args[0], CultureInfo.InvariantCulture), TimeSpan.FromSeconds(20));
        using var queue = ShmQueue.Open(segment, args[1], timeout: TimeSpan.FromSeconds(20));
        int id = int.Parse(args[2], CultureInfo.InvariantCulture);
        long count = long.Parse(args[3], CultureInfo.InvariantCulture);
        int min = int.Parse(args[4], CultureInfo.InvariantCulture);
        int max = int.Parse(args[5], CultureInfo.InvariantCulture);
        using var results = QueueResults.Open(args[6]);
        int slot = int.Parse(args[7], CultureInfo.InvariantCulture);
        bool stall = args.Length > 8 && args[8] == "fill-stall";
        int work = args.Length > 8 && args[8].StartsWith("work=", StringComparison.Ordinal) ? int.Parse(args[8].AsSpan(5), CultureInfo.InvariantCulture) : 0;
        using var producer = CreateProducer(queue);
        var random = new Random(id * 7919);
        Console.WriteLine("READY");
        Console.Out.Flush();
        long sent = 0;
        for (long seq = 0; seq < count && Volatile.Read(ref results.ProducersStop) == 0; seq++)
        {
            int size = random.Next(min, max + 1);
            while (true)
            {
                try
                {
                    using ShmQueueWriteLease lease = producer.Reserve(size, Slice);
                    if (stall)
                    {
                        lease.Span[..(size / 2)].Fill(0xAB);
                        Console.WriteLine("STALLED");
                        Console.Out.Flush();
                        Thread.Sleep(Timeout.Infinite);
                    }

                    QueueMessages.Fill(lease.Span, id, seq);
                    Thread.SpinWait(work); // time inside the reservation: where a kill is most interesting
                    lease.Commit();
                    break;
                }
                catch (TimeoutException) when (Volatile.Read(ref results.ProducersStop) == 0)
                {
                }
                catch (TimeoutException)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"DONE {sent}"));
                    return 0;
                }
            }

            Volatile.Write(ref results.Committed(id), seq + 1);
            Interlocked.Increment(ref results.Progress(slot));
            sent++;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"DONE {sent}"));
        return 0;
    }

    /// <summary>
    /// Args: key name consumerId resultsId progressSlot expectedTotal [hold | work=N]. Receives in place, verifies each message
    /// (checksum; sequences of one producer strictly increasing unless flagged as a redelivery), counts the delivery
    /// in the scoreboard before releasing it, until delivered ≥ expectedTotal (expectedTotal &gt; 0) or consumersStop is
    /// set and the queue is empty. With "hold" it receives one message, counts it, prints HOLDING producer seq and
    /// waits without releasing (to be killed); with "work=N" it spins N iterations inside each lease. Prints READY,
    /// then DONE n; errors on stderr, exit 1.
    /// </summary>
    [Verb("queue-consume")]
    public static int Consume(string[] args)
    {
        WatchParent();
        using var segment = ManagedSegment.Open(IpcKey.Parse(args[0], CultureInfo.InvariantCulture), TimeSpan.FromSeconds(20));
        using var queue = ShmQueue.Open(segment, args[1], timeout: TimeSpan.FromSeconds(20));
        int id = int.Parse(args[2], CultureInfo.InvariantCulture);
        using var results = QueueResults.Open(args[3]);
        int slot = int.Parse(args[4], CultureInfo.InvariantCulture);
        long expected = long.Parse(args[5], CultureInfo.InvariantCulture);
        bool hold = args.Length > 6 && args[6] == "hold";
        int work = args.Length > 6 && args[6].StartsWith("work=", StringComparison.Ordinal) ? int.Parse(args[6].AsSpan(5), CultureInfo.InvariantCulture) : 0;
        using var consumer = CreateConsumer(queue);
        long[] last = new long[results.MaxProducers];
        Array.Fill(last, -1);
        Console.WriteLine("READY");
        Console.Out.Flush();
        long received = 0;
        while (true)
        {
            if (expected > 0 && Volatile.Read(ref results.Delivered) >= expected)
            {
                break;
            }

            ShmQueueReadLease lease;
            try
            {
                lease = consumer.Receive(Slice);
            }
            catch (TimeoutException)
            {
                if (expected <= 0 && Volatile.Read(ref results.ConsumersStop) != 0)
                {
                    break;
                }

                continue;
            }

            using (lease)
            {
                (int producer, long seq) = QueueMessages.Verify(lease.Span);
                if (!lease.IsRedelivery)
                {
                    if (seq <= last[producer])
                    {
                        Interlocked.Increment(ref results.Errors);
                        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"consumer {id}: producer {producer} sequence {seq} after {last[producer]}"));
                        return 1;
                    }

                    last[producer] = seq;
                }

                Interlocked.Add(ref results.Deliveries(producer, seq), lease.IsRedelivery ? QueueResults.Redelivered : 1);
                Thread.SpinWait(work); // time inside the lease, after the delivery was counted: a kill here must redeliver
                Interlocked.Increment(ref results.Delivered);
                Interlocked.Increment(ref results.Progress(slot));
                received++;
                if (hold)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"HOLDING {producer} {seq} {(lease.IsRedelivery ? 1 : 0)}"));
                    Console.Out.Flush();
                    Thread.Sleep(Timeout.Infinite);
                }
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"DONE {received}"));
        return 0;
    }

    /// <summary>
    /// Args: key name count. Async consumer of an SPSC queue, for the allocation check: receives count messages of
    /// 64 bytes with WaitToReceiveAsync + TryReceive (each wait really sleeps: the parent sends one message per "SEND"
    /// handshake through the second queue name + "-ack"), after a warm-up, and prints "ALLOCATED bytes" for the
    /// measured part.
    /// </summary>
    [Verb("queue-async-alloc")]
    public static int AsyncAllocations(string[] args)
    {
        WatchParent();
        using var segment = ManagedSegment.Open(IpcKey.Parse(args[0], CultureInfo.InvariantCulture), TimeSpan.FromSeconds(20));
        using var queue = ShmQueue.Open(segment, args[1], timeout: TimeSpan.FromSeconds(20));
        using var acks = ShmQueue.Open(segment, args[1] + "-ack", timeout: TimeSpan.FromSeconds(20));
        int count = int.Parse(args[2], CultureInfo.InvariantCulture);
        using var consumer = queue.CreateConsumer(new ShmQueueConsumerOptions { WaitStrategy = ShmWaitStrategy.Block });
        using var acknowledge = acks.CreateProducer();
        Console.WriteLine("READY");
        Console.Out.Flush();
        long allocated = MeasureAsync(consumer, acknowledge, count).GetAwaiter().GetResult();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ALLOCATED {allocated}"));
        return 0;
    }

    private static async Task<long> MeasureAsync(ShmQueueConsumer consumer, ShmQueueProducer acknowledge, int count)
    {
        byte[] buffer = new byte[64];
        long start = 0;
        for (int i = 0; i < count * 2; i++)
        {
            if (i == count)
            {
                start = GC.GetTotalAllocatedBytes(precise: true);
            }

            // The ack goes out before the wait starts, so the parent's next message arrives while this side waits.
            acknowledge.Enqueue(buffer.AsSpan(0, 1));
            while (!consumer.TryReceive(buffer, out _))
            {
                await consumer.WaitToReceiveAsync().ConfigureAwait(false);
            }
        }

        return GC.GetTotalAllocatedBytes(precise: true) - start;
    }

    private static ShmQueueProducer CreateProducer(ShmQueue queue)
    {
        // SPSC: the role of a producer that was just killed may still look alive for a moment (its token is given
        // back when the kernel has reaped it); retry briefly.
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return queue.CreateProducer();
            }
            catch (ShmQueueRoleInUseException) when (attempt < 200)
            {
                Thread.Sleep(10);
            }
        }
    }

    private static ShmQueueConsumer CreateConsumer(ShmQueue queue)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return queue.CreateConsumer();
            }
            catch (ShmQueueRoleInUseException) when (attempt < 200)
            {
                Thread.Sleep(10);
            }
        }
    }

    /// <summary>Exits when stdin closes: the test process that started this one is gone.</summary>
    private static void WatchParent()
    {
        var watcher = new Thread(() =>
        {
            try
            {
                while (Console.In.ReadLine() is not null)
                {
                }
            }
            catch (IOException)
            {
            }

            Environment.Exit(3);
        })
        { IsBackground = true };
        watcher.Start();
    }
}
