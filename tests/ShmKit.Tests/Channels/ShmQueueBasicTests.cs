namespace ShmKit.Tests.Channels;

public sealed class ShmQueueBasicTests
{
    [Theory]
    [InlineData(ShmQueueMode.SingleProducerSingleConsumer)]
    [InlineData(ShmQueueMode.MultiProducerMultiConsumer)]
    public void Messages_Go_Through_In_Order_With_Their_Bytes(ShmQueueMode mode)
    {
        using var cleanup = new IpcCleanup();
        using var segment = QueueTestSupport.CreateSegment(cleanup);
        using var queue = ShmQueue.OpenOrCreate(segment, "q", new ShmQueueOptions { Capacity = 4096, Mode = mode });
        using var producer = queue.CreateProducer();
        using var consumer = queue.CreateConsumer();
        var buffer = new byte[2048];
        for (int i = 0; i < 2000; i++)
        {
            int length = QueueTestSupport.MessageHeader + (i % 300);
            QueueTestSupport.Fill(buffer.AsSpan(0, length), 1, i);
            producer.Enqueue(buffer.AsSpan(0, length), TimeSpan.FromSeconds(5));
            using var lease = consumer.Receive(TimeSpan.FromSeconds(5));
            var (p, s) = QueueTestSupport.Verify(lease.Span);
            Assert.Equal(1, p);
            Assert.Equal(i, s);
            Assert.False(lease.IsRedelivery);
        }

        var stats = queue.GetStatistics();
        Assert.Equal(2000, stats.MessagesIn);
        Assert.Equal(2000, stats.MessagesOut);
        Assert.Equal(stats.Head, stats.Tail);
    }
}
