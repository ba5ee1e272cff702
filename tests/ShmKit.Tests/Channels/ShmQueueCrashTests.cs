using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace ShmKit.Tests.Channels;

/// <summary>
/// SIGKILL of producers and consumers (ShmKit.TestChild processes) at the worst moments and in a loop: the crash
/// rules of docs/CHANNELS.md hold and the survivors go on without manual cleanup.
/// </summary>
public sealed class ShmQueueCrashTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(20);

    [Fact]
    public void Mpmc_A_Producer_Killed_Between_Reserve_And_Commit_Never_Blocks_The_Queue_And_Is_Never_Delivered()
    {
        using var rig = new QueueRig(ShmQueueMode.MultiProducerMultiConsumer, 16 * 1024, maxProducers: 2, perProducer: 16, maxChildren: 2);
        var (staller, _) = rig.StartProducer(0, 1, 200, 200, "fill-stall");
        staller.WaitForLine("STALLED", Generous);
        using var producer = rig.Queue.CreateProducer();
        using var consumer = rig.Queue.CreateConsumer();
        byte[] message = new byte[100];
        for (int s = 0; s < 5; s++)
        {
            QueueMessages.Fill(message, 1, s);
            producer.Enqueue(message);
        }

        // The live producer's reservation comes first: nothing can be delivered past it yet.
        Assert.Throws<TimeoutException>(() => consumer.Receive(TimeSpan.FromMilliseconds(100)));
        staller.Kill();
        for (int s = 0; s < 5; s++)
        {
            using ShmQueueReadLease lease = consumer.Receive(Generous);
            Assert.Equal((1, (long)s), QueueMessages.Verify(lease.Span));
            Assert.False(lease.IsRedelivery);
        }

        Assert.Throws<TimeoutException>(() => consumer.Receive(TimeSpan.FromMilliseconds(50)));
        ShmQueueStatistics stats = rig.Queue.GetStatistics();
        Assert.Equal(1, stats.AbandonedRecords);
        Assert.Equal(stats.Head, stats.Tail);
        Assert.Equal(0, Volatile.Read(ref rig.Results.Committed(0)));
    }

    [Fact]
    public void Spsc_A_Producer_Killed_Between_Reserve_And_Commit_Loses_Only_That_Message_And_Its_Role_Is_Taken_Over()
    {
        using var rig = new QueueRig(ShmQueueMode.SingleProducerSingleConsumer, 16 * 1024, maxProducers: 2, perProducer: 16, maxChildren: 2);
        var (staller, _) = rig.StartProducer(0, 1, 200, 200, "fill-stall");
        staller.WaitForLine("STALLED", Generous);
        var e = Assert.Throws<ShmQueueRoleInUseException>(() => rig.Queue.CreateProducer());
        Assert.Equal(staller.Id, e.HolderProcessId);
        staller.Kill();
        using var producer = rig.Queue.CreateProducer();
        using var consumer = rig.Queue.CreateConsumer();
        byte[] message = new byte[100];
        QueueMessages.Fill(message, 1, 0);
        producer.Enqueue(message);
        using (ShmQueueReadLease lease = consumer.Receive(Generous))
        {
            Assert.Equal((1, 0L), QueueMessages.Verify(lease.Span));
        }

        Assert.False(consumer.TryReceive(out _));
    }

    [Fact]
    public void Mpmc_A_Consumer_Killed_Holding_A_Message_Has_It_Redelivered_To_Another_Consumer_Flagged()
    {
        using var rig = new QueueRig(ShmQueueMode.MultiProducerMultiConsumer, 16 * 1024, maxProducers: 1, perProducer: 16, maxChildren: 2);
        using var producer = rig.Queue.CreateProducer();
        byte[] message = new byte[64];
        for (int s = 0; s < 10; s++)
        {
            QueueMessages.Fill(message, 0, s);
            producer.Enqueue(message);
        }

        var (holder, _) = rig.StartConsumer(1, 0, "hold");
        Assert.Equal("HOLDING 0 0 0", holder.WaitForLine("HOLDING", Generous));
        using var consumer = rig.Queue.CreateConsumer();
        for (int s = 1; s < 10; s++)
        {
            using ShmQueueReadLease lease = consumer.Receive(Generous);
            Assert.Equal((0, (long)s), QueueMessages.Verify(lease.Span));
            Assert.False(lease.IsRedelivery);
        }

        Assert.Throws<TimeoutException>(() => consumer.Receive(TimeSpan.FromMilliseconds(100))); // still held by a live consumer
        holder.Kill();
        using (ShmQueueReadLease again = consumer.Receive(Generous)) // woken by the holder's death, not by a message
        {
            Assert.Equal((0, 0L), QueueMessages.Verify(again.Span));
            Assert.True(again.IsRedelivery);
        }

        Assert.Throws<TimeoutException>(() => consumer.Receive(TimeSpan.FromMilliseconds(50)));
        ShmQueueStatistics stats = rig.Queue.GetStatistics();
        Assert.Equal(1, stats.Redeliveries);
        Assert.Equal(stats.Head, stats.Tail);
    }

    [Fact]
    public void Spsc_The_Next_Consumer_Gets_What_A_Killed_Consumer_Held_Flagged()
    {
        using var rig = new QueueRig(ShmQueueMode.SingleProducerSingleConsumer, 16 * 1024, maxProducers: 1, perProducer: 16, maxChildren: 2);
        using var producer = rig.Queue.CreateProducer();
        byte[] message = new byte[64];
        for (int s = 0; s < 3; s++)
        {
            QueueMessages.Fill(message, 0, s);
            producer.Enqueue(message);
        }

        var (holder, _) = rig.StartConsumer(1, 0, "hold");
        Assert.Equal("HOLDING 0 0 0", holder.WaitForLine("HOLDING", Generous));
        Assert.Throws<ShmQueueRoleInUseException>(() => rig.Queue.CreateConsumer());
        holder.Kill();
        using var consumer = rig.Queue.CreateConsumer();
        for (int s = 0; s < 3; s++)
        {
            using ShmQueueReadLease lease = consumer.Receive(Generous);
            Assert.Equal((0, (long)s), QueueMessages.Verify(lease.Span));
            Assert.Equal(s == 0, lease.IsRedelivery);
        }

        Assert.Equal(1, rig.Queue.GetStatistics().Redeliveries);
    }

    [Theory]
    [InlineData(ShmQueueMode.MultiProducerMultiConsumer, 4, 4, 70, 700)]
    [InlineData(ShmQueueMode.SingleProducerSingleConsumer, 1, 1, 30, 300)] // 100 kills in the default run, 1000 in the stress run
    public void Killing_Producers_And_Consumers_Mid_Stream_Loses_And_Duplicates_Nothing_Unflagged(
        ShmQueueMode mode, int producers, int consumers, int kills, int stressKills)
    {
        if (QueueRig.Stress)
        {
            kills = stressKills;
        }

        int perIncarnation = QueueRig.Stress ? 100_000 : 50_000;
        int maxIncarnations = producers + kills + 16;
        using var rig = new QueueRig(mode, 16 * 1024, maxIncarnations, perIncarnation, consumers + kills + maxIncarnations + 1);
        var random = new Random(20261201);
        var watch = Stopwatch.StartNew();
        var live = new List<(ChildProcess Child, int Slot, bool IsProducer)>();
        int nextProducer = 0;
        int nextConsumer = 0;
        void StartProducer()
        {
            var (child, slot) = rig.StartProducer(nextProducer++, perIncarnation, QueueMessages.Header, 300, "work=200");
            live.Add((child, slot, true));
        }

        void StartConsumer()
        {
            var (child, slot) = rig.StartConsumer(nextConsumer++, 0, "work=200");
            live.Add((child, slot, false));
        }

        for (int i = 0; i < consumers; i++)
        {
            StartConsumer();
        }

        for (int i = 0; i < producers; i++)
        {
            StartProducer();
        }

        int producerKills = 0;
        int consumerKills = 0;
        while (producerKills + consumerKills < kills)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromMinutes(5), $"only {producerKills + consumerKills} kills in 5 minutes");
            for (int i = live.Count - 1; i >= 0; i--)
            {
                if (live[i].IsProducer && live[i].Child.HasExited)
                {
                    // It sent all its messages: a fresh incarnation takes its place.
                    QueueRig.ExpectClean(live[i].Child, Generous);
                    live.RemoveAt(i);
                    if (nextProducer < maxIncarnations)
                    {
                        StartProducer();
                    }
                }
            }

            var working = live.Where(c => Volatile.Read(ref rig.Results.Progress(c.Slot)) > 0).ToList();
            if (working.Count == 0 || (mode == ShmQueueMode.SingleProducerSingleConsumer && working.Count < live.Count))
            {
                Thread.Sleep(2); // SPSC: kill only while both sides run, so every kill lands mid-stream
                continue;
            }

            var victim = working[random.Next(working.Count)];
            Thread.Sleep(random.Next(0, 3));
            victim.Child.Kill();
            Assert.True(victim.Child.HasExited);
            live.Remove(victim);
            if (victim.IsProducer)
            {
                producerKills++;
                if (nextProducer < maxIncarnations)
                {
                    StartProducer();
                }
            }
            else
            {
                consumerKills++;
                StartConsumer();
            }
        }

        Volatile.Write(ref rig.Results.ProducersStop, 1);
        foreach (var producer in live.Where(c => c.IsProducer))
        {
            QueueRig.ExpectClean(producer.Child, TimeSpan.FromMinutes(1));
        }

        // The survivors drain the queue, recovering what dead consumers held, without help.
        var drained = Stopwatch.StartNew();
        ShmQueueStatistics stats;
        while ((stats = rig.Queue.GetStatistics()).Head != stats.Tail)
        {
            Assert.True(drained.Elapsed < TimeSpan.FromMinutes(1), $"the queue did not drain: {stats}");
            Thread.Sleep(5);
        }

        Volatile.Write(ref rig.Results.ConsumersStop, 1);
        foreach (var consumer in live.Where(c => !c.IsProducer))
        {
            QueueRig.ExpectClean(consumer.Child, TimeSpan.FromMinutes(1));
        }

        Assert.Equal(0, Volatile.Read(ref rig.Results.Errors));
        var (delivered, redelivered) = rig.VerifyScoreboard(nextProducer, allowRedelivery: true);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{producerKills} producer and {consumerKills} consumer kills, {delivered} deliveries ({redelivered} redelivered) in {watch.Elapsed.TotalSeconds:0.0} s; {stats}"));
        Assert.True(redelivered <= consumerKills, $"{redelivered} redeliveries for {consumerKills} killed consumers");
        Assert.True(stats.AbandonedRecords <= producerKills);
        Assert.True(delivered > 0);
    }
}
