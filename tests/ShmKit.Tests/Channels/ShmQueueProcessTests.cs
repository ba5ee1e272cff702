using System.Diagnostics;
using System.Globalization;
using ShmKit.Tests.Futexes;
using Xunit.Abstractions;

namespace ShmKit.Tests.Channels;

/// <summary>
/// Separate processes moving many messages of random sizes (wrapping the ring at every aligned offset over the run)
/// through one queue; the scoreboard shows nothing lost, duplicated, reordered within a producer or corrupted.
/// Default counts keep the run short; SHMKIT_STRESS=1 multiplies them.
/// </summary>
public sealed class ShmQueueProcessTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Budget = TimeSpan.FromMinutes(3);

    [Fact]
    public void Spsc_Between_Two_Processes_Loses_Duplicates_And_Reorders_Nothing()
    {
        int count = QueueRig.Stress ? 4_000_000 : 1_000_000;
        using var rig = new QueueRig(ShmQueueMode.SingleProducerSingleConsumer, 16 * 1024, maxProducers: 1, perProducer: count, maxChildren: 2);
        var watch = Stopwatch.StartNew();
        var (consumer, _) = rig.StartConsumer(0, count);
        var (producer, _) = rig.StartProducer(0, count, QueueMessages.Header, 600);
        QueueRig.ExpectClean(producer, Budget);
        QueueRig.ExpectClean(consumer, Budget);
        ShmQueueStatistics stats = rig.Queue.GetStatistics();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{count} messages in {watch.Elapsed.TotalSeconds:0.00} s; {stats}"));
        var (delivered, _) = rig.VerifyScoreboard(1, allowRedelivery: false);
        Assert.Equal(count, delivered);
        Assert.Equal(count, stats.MessagesIn);
        Assert.Equal(count, stats.MessagesOut);
        Assert.Equal(stats.Head, stats.Tail);
    }

    [Fact]
    public void Mpmc_Four_Producers_And_Four_Consumers_Deliver_Each_Message_Exactly_Once()
    {
        const int producers = 4;
        const int consumers = 4;
        int perProducer = QueueRig.Stress ? 1_000_000 : 250_000;
        long total = (long)producers * perProducer;
        using var rig = new QueueRig(ShmQueueMode.MultiProducerMultiConsumer, 32 * 1024, producers, perProducer, producers + consumers);
        var watch = Stopwatch.StartNew();
        var children = new List<ChildProcess>();
        for (int c = 0; c < consumers; c++)
        {
            children.Add(rig.StartConsumer(c, total).Child);
        }

        for (int p = 0; p < producers; p++)
        {
            children.Add(rig.StartProducer(p, perProducer, QueueMessages.Header, 400).Child);
        }

        foreach (ChildProcess child in children)
        {
            QueueRig.ExpectClean(child, Budget);
        }

        ShmQueueStatistics stats = rig.Queue.GetStatistics();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{total} messages in {watch.Elapsed.TotalSeconds:0.00} s; {stats}"));
        var (delivered, _) = rig.VerifyScoreboard(producers, allowRedelivery: false);
        Assert.Equal(total, delivered);
        Assert.Equal(total, stats.MessagesIn);
        Assert.Equal(total, stats.MessagesOut);
        Assert.Equal(stats.Head, stats.Tail);
        Assert.Equal(stats.Tail, stats.ReadCursor);
    }

    [Fact]
    public void An_Async_Consumer_Allocates_Nothing_Per_Message()
    {
        // The child waits with WaitToReceiveAsync for each message (sent only after its ack, so most waits really
        // sleep on the shared futex waiter thread), and measures what the whole process allocates.
        const int count = 2000;
        using var cleanup = new IpcCleanup();
        using var segment = QueueTestSupport.CreateSegment(cleanup, 4096, queues: 2);
        using var queue = ShmQueue.Create(segment, "alloc", new ShmQueueOptions { Capacity = 4096 });
        using var acks = ShmQueue.Create(segment, "alloc-ack", new ShmQueueOptions { Capacity = 4096 });
        using var child = ChildProcess.StartChild("queue-async-alloc", segment.Key.ToString(), "alloc", count.ToString(CultureInfo.InvariantCulture));
        child.WaitForLine("READY");
        using var producer = queue.CreateProducer();
        using var ackConsumer = acks.CreateConsumer();
        byte[] message = new byte[64];
        byte[] ack = new byte[1];
        for (int i = 0; i < count * 2; i++)
        {
            ackConsumer.Receive(ack, TimeSpan.FromSeconds(30));
            producer.Enqueue(message, TimeSpan.FromSeconds(30));
        }

        string line = child.WaitForLine("ALLOCATED", TimeSpan.FromSeconds(60));
        QueueRig.ExpectClean(child, TimeSpan.FromSeconds(30));
        long allocated = long.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);
        output.WriteLine($"{allocated} bytes allocated for {count} async receives; empty waits {queue.GetStatistics().EmptyWaits}");
        Assert.True(allocated < count, $"{allocated} bytes allocated for {count} messages: the async path allocates per message");
    }

    [Fact]
    public void An_Idle_Blocked_Consumer_Makes_No_Wake_Ups()
    {
        using var cleanup = new IpcCleanup();
        using var segment = QueueTestSupport.CreateSegment(cleanup, 4096);
        using var queue = ShmQueue.Create(segment, "idle", new ShmQueueOptions { Capacity = 4096, Mode = ShmQueueMode.MultiProducerMultiConsumer });
        using var consumer = queue.CreateConsumer();
        using var producer = queue.CreateProducer();
        int received = -1;
        var (thread, tid) = FutexTestSupport.StartThread(() => received = consumer.Receive(new byte[8], TimeSpan.FromSeconds(30)));
        FutexTestSupport.WaitUntil(() => FutexTestSupport.IsBlockedIn(Environment.ProcessId, tid, ShmKit.Interop.Syscalls.SYS_futex)
            || FutexTestSupport.IsBlockedIn(Environment.ProcessId, tid, ShmKit.Interop.Syscalls.SYS_futex_waitv), "the consumer to sleep");
        long before = FutexTestSupport.VoluntarySwitches(tid);
        Thread.Sleep(1000);
        long wakeUps = FutexTestSupport.VoluntarySwitches(tid) - before;
        output.WriteLine($"wake-ups in ~1 s: {wakeUps}");
        producer.Enqueue([1, 2, 3]);
        Assert.True(thread.Join(TimeSpan.FromSeconds(10)));
        Assert.Equal(3, received);
        Assert.True(wakeUps <= 1, $"the idle consumer woke {wakeUps} times");
    }
}
