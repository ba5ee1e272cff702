using System.Buffers;

namespace ShmKit.Tests.Channels;

/// <summary>One process, real segments: the queue's contract message by message.</summary>
public sealed class ShmQueueBasicTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(ShmQueueMode.SingleProducerSingleConsumer)]
    [InlineData(ShmQueueMode.MultiProducerMultiConsumer)]
    public void Messages_Go_Through_In_Order_With_Their_Bytes(ShmQueueMode mode)
    {
        using var cleanup = new IpcCleanup();
        using var segment = QueueTestSupport.CreateSegment(cleanup);
        using var queue = ShmQueue.OpenOrCreate(segment, "q", new ShmQueueOptions { Capacity = 4096, Mode = mode });
        Assert.True(queue.WasCreated);
        using var producer = queue.CreateProducer();
        using var consumer = queue.CreateConsumer();
        var buffer = new byte[2048];
        for (int i = 0; i < 2000; i++)
        {
            int length = QueueMessages.Header + (i % 300);
            QueueMessages.Fill(buffer.AsSpan(0, length), 1, i);
            producer.Enqueue(buffer.AsSpan(0, length), Generous);
            using var lease = consumer.Receive(Generous);
            var (p, s) = QueueMessages.Verify(lease.Span);
            Assert.Equal(1, p);
            Assert.Equal(i, s);
            Assert.False(lease.IsRedelivery);
        }

        ShmQueueStatistics stats = queue.GetStatistics();
        Assert.Equal(2000, stats.MessagesIn);
        Assert.Equal(2000, stats.MessagesOut);
        Assert.Equal(stats.Head, stats.Tail);
        Assert.Equal(0, stats.Depth);
    }

    [Theory]
    [InlineData(ShmQueueMode.SingleProducerSingleConsumer)]
    [InlineData(ShmQueueMode.MultiProducerMultiConsumer)]
    public void A_Record_That_Would_Cross_The_End_Wraps_At_Every_Offset(ShmQueueMode mode)
    {
        // For every aligned offset o, move the producer exactly to o with filler messages, then send a message too long
        // for the rest of the ring: it must be padded at o and delivered whole from offset 0.
        const long capacity = 4096;
        using var cleanup = new IpcCleanup();
        using var segment = QueueTestSupport.CreateSegment(cleanup);
        using var queue = ShmQueue.OpenOrCreate(segment, "wrap", new ShmQueueOptions { Capacity = capacity, Mode = mode });
        using var producer = queue.CreateProducer();
        using var consumer = queue.CreateConsumer();
        int header = mode == ShmQueueMode.SingleProducerSingleConsumer ? 8 : 16;
        int align = header;
        var buffer = new byte[queue.MaxMessageLength];
        long sequence = 0;

        void SendRecord(long recordSize)
        {
            // A message whose record is exactly recordSize ring bytes (a multiple of the alignment, at least a header).
            int length = (int)recordSize - header;
            Span<byte> message = buffer.AsSpan(0, length);
            if (length >= QueueMessages.Header)
            {
                QueueMessages.Fill(message, 7, sequence);
            }
            else
            {
                message.Fill((byte)sequence);
            }

            producer.Enqueue(message, Generous);
            using var lease = consumer.Receive(Generous);
            Assert.Equal(length, lease.Length);
            if (length >= QueueMessages.Header)
            {
                Assert.Equal((7, sequence), QueueMessages.Verify(lease.Span));
            }

            sequence++;
        }

        void MoveTo(long target)
        {
            long maxRecord = (capacity / 2) & ~(align - 1);
            long offset = (long)(queue.GetStatistics().Tail % (ulong)capacity);
            long distance = (target - offset + capacity) % capacity;
            if (offset + distance > capacity)
            {
                distance = capacity - offset; // first to the end exactly (no padding), then on from 0
            }

            while (distance > 0)
            {
                long step = Math.Min(distance, maxRecord);
                if (distance - step is > 0 and < 16)
                {
                    step -= 16; // leave room for one more whole record
                }

                SendRecord(step);
                distance -= step;
            }

            offset = (long)(queue.GetStatistics().Tail % (ulong)capacity);
            if (offset != target)
            {
                MoveTo(target);
            }
        }

        int wraps = 0;
        for (long o = align; o < capacity; o += align)
        {
            MoveTo(o);
            long room = capacity - o;
            long wrapping = Math.Min(((room + align) / align * align) + align, (queue.MaxMessageLength + header) & ~(align - 1));
            if (wrapping <= room)
            {
                continue; // no message is long enough to cross the end from this near the start
            }

            ulong before = queue.GetStatistics().Tail;
            SendRecord(wrapping);
            ulong after = queue.GetStatistics().Tail;
            Assert.Equal((ulong)(room + wrapping), after - before); // padding to the end, then the record at 0
            wraps++;
        }

        // A wrap is possible wherever less than the largest record is left: every aligned offset past the middle.
        Assert.Equal((int)((capacity / 2) / align) - 1, wraps);

        ShmQueueStatistics stats = queue.GetStatistics();
        Assert.Equal(stats.Head, stats.Tail);
        Assert.Equal(sequence, stats.MessagesOut);
    }

    [Fact]
    public void Opening_With_Another_Mode_Or_Capacity_Is_A_Specific_Error()
    {
        using var cleanup = new IpcCleanup();
        using var segment = QueueTestSupport.CreateSegment(cleanup);
        using var spsc = ShmQueue.OpenOrCreate(segment, "q", new ShmQueueOptions { Capacity = 8192 });
        var e = Assert.Throws<ShmQueueModeMismatchException>(() => ShmQueue.Open(segment, "q", ShmQueueMode.MultiProducerMultiConsumer));
        Assert.Equal(ShmQueueMode.SingleProducerSingleConsumer, e.FoundMode);
        Assert.Equal(ShmQueueMode.MultiProducerMultiConsumer, e.ExpectedMode);
        Assert.Contains("'q'", e.Message, StringComparison.Ordinal);
        Assert.Throws<ShmQueueModeMismatchException>(() => ShmQueue.OpenOrCreate(segment, "q", new ShmQueueOptions { Capacity = 8192, Mode = ShmQueueMode.MultiProducerMultiConsumer }));
        var c = Assert.Throws<ShmQueueModeMismatchException>(() => ShmQueue.OpenOrCreate(segment, "q", new ShmQueueOptions { Capacity = 4096 }));
        Assert.Equal(8192, c.FoundCapacity);
        using var opened = ShmQueue.Open(segment, "q");
        Assert.Equal(ShmQueueMode.SingleProducerSingleConsumer, opened.Mode);
        Assert.False(opened.WasCreated);
        Assert.Throws<IpcObjectExistsException>(() => ShmQueue.Create(segment, "q", new ShmQueueOptions { Capacity = 8192 }));
        Assert.Throws<IpcObjectNotFoundException>(() => ShmQueue.Open(segment, "nope"));
    }

    [Fact]
    public void Options_And_Messages_That_Cannot_Fit_Are_Refused_Up_Front()
    {
        using var cleanup = new IpcCleanup();
        using var segment = QueueTestSupport.CreateSegment(cleanup);
        Assert.Throws<ArgumentOutOfRangeException>(() => ShmQueue.OpenOrCreate(segment, "a", new ShmQueueOptions { Capacity = 5000 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => ShmQueue.OpenOrCreate(segment, "a", new ShmQueueOptions { Capacity = 2048 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => ShmQueue.OpenOrCreate(segment, "a", new ShmQueueOptions { Capacity = 4096, MaxMessageLength = 4000 }));
        using var queue = ShmQueue.OpenOrCreate(segment, "a", new ShmQueueOptions { Capacity = 4096 });
        Assert.Equal(2048 - 8, queue.MaxMessageLength);
        using var producer = queue.CreateProducer();
        byte[] big = new byte[queue.MaxMessageLength + 1];
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => producer.TryEnqueue(big));
        Assert.Contains("at most 2040 bytes", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => producer.Enqueue(big));
        Assert.Throws<ArgumentOutOfRangeException>(() => producer.Reserve(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => producer.TryReserve(big.Length, out _));
        Assert.Equal(0, queue.GetStatistics().MessagesIn);
        Assert.True(producer.TryEnqueue(big.AsSpan(1))); // the largest message fits an empty ring
    }

    [Theory]
    [InlineData(ShmQueueMode.SingleProducerSingleConsumer)]
    [InlineData(ShmQueueMode.MultiProducerMultiConsumer)]
    public void A_Full_Ring_Fails_Fast_Or_Waits_By_Option(ShmQueueMode mode)
    {
        using var cleanup = new IpcCleanup();
        using var segment = QueueTestSupport.CreateSegment(cleanup);
        using var queue = ShmQueue.OpenOrCreate(segment, "full", new ShmQueueOptions { Capacity = 4096, Mode = mode });
        using var failing = queue.CreateProducer(new ShmQueueProducerOptions { FullMode = ShmQueueFullMode.Fail });
        byte[] message = new byte[1000];
        int sent = 0;
        while (failing.TryEnqueue(message))
        {
            sent++;
        }

        Assert.True(sent is 3 or 4);
        var full = Assert.Throws<ShmQueueFullException>(() => failing.Enqueue(message));
        Assert.True(full.FreeBytes < full.RequestedBytes + 16);
        Assert.Throws<ShmQueueFullException>(() => failing.Reserve(1000));
        Assert.Throws<ShmQueueFullException>(() => failing.EnqueueAsync(message).AsTask().GetAwaiter().GetResult());
        failing.Dispose();

        using var waiting = queue.CreateProducer();
        Assert.Throws<TimeoutException>(() => waiting.Enqueue(message, TimeSpan.FromMilliseconds(50)));
        using var consumer = queue.CreateConsumer();
        var done = new ManualResetEventSlim();
        var sender = new Thread(() =>
        {
            waiting.Enqueue(message, Generous); // waits until the consumer below makes room
            done.Set();
        });
        sender.Start();
        Thread.Sleep(20);
        Assert.True(consumer.TryReceive(new byte[1000], out int length));
        Assert.Equal(1000, length);
        Assert.True(done.Wait(Generous));
        sender.Join();
        Assert.True(queue.GetStatistics().FullWaits >= 2);
    }

    [Fact]
    public void A_Spsc_Queue_Has_One_Live_Producer_And_One_Live_Consumer()
    {
        using var cleanup = new IpcCleanup();
        using var segment = QueueTestSupport.CreateSegment(cleanup);
        using var queue = ShmQueue.OpenOrCreate(segment, "roles", new ShmQueueOptions { Capacity = 4096 });
        var producer = queue.CreateProducer();
        var consumer = queue.CreateConsumer();
        var e = Assert.Throws<ShmQueueRoleInUseException>(() => queue.CreateProducer());
        Assert.Equal("producer", e.Role);
        Assert.Equal(Environment.ProcessId, e.HolderProcessId);
        Assert.Throws<ShmQueueRoleInUseException>(() => queue.CreateConsumer());
        ShmQueueStatistics stats = queue.GetStatistics();
        Assert.Equal(Environment.ProcessId, stats.ProducerProcessId);
        Assert.Equal(Environment.ProcessId, stats.ConsumerProcessId);
        producer.Enqueue([1, 2, 3]);
        producer.Dispose();
        consumer.Dispose();
        Assert.Equal(0, queue.GetStatistics().ProducerProcessId);
        using var producer2 = queue.CreateProducer();
        using var consumer2 = queue.CreateConsumer();
        using var lease = consumer2.Receive(Generous);
        Assert.Equal(new byte[] { 1, 2, 3 }, lease.Span.ToArray());
        Assert.False(lease.IsRedelivery); // the first consumer ended cleanly
    }

    [Theory]
    [InlineData(ShmQueueMode.SingleProducerSingleConsumer)]
    [InlineData(ShmQueueMode.MultiProducerMultiConsumer)]
    public void Leases_Commit_Abandon_Shrink_And_End_Once(ShmQueueMode mode)
    {
        using var cleanup = new IpcCleanup();
        using var segment = QueueTestSupport.CreateSegment(cleanup);
        using var queue = ShmQueue.OpenOrCreate(segment, "lease", new ShmQueueOptions { Capacity = 4096, Mode = mode });
        using var producer = queue.CreateProducer();
        using var consumer = queue.CreateConsumer();

        using (var abandoned = producer.Reserve(100))
        {
            abandoned.Span.Fill(0xEE);
            Assert.Throws<InvalidOperationException>(() => producer.TryEnqueue([1]));
        }

        Assert.False(consumer.TryReceive(out _));

        var lease = producer.Reserve(100);
        lease.Span[..3].CopyTo(stackalloc byte[3]);
        new byte[] { 9, 8, 7 }.CopyTo(lease.Span);
        lease.Commit(3);
        Assert.False(lease.IsActive);
        try
        {
            _ = lease.Span;
            Assert.Fail("the span of a committed lease was handed out");
        }
        catch (InvalidOperationException)
        {
        }

        lease.Dispose(); // after the commit: nothing
        try
        {
            lease.Commit();
            Assert.Fail("a lease was committed twice");
        }
        catch (InvalidOperationException)
        {
        }

        Assert.True(consumer.TryReceive(out ShmQueueReadLease read));
        Assert.Equal(new byte[] { 9, 8, 7 }, read.Span.ToArray());
        Assert.Throws<InvalidOperationException>(() => consumer.TryReceive(out _));
        read.Dispose();
        read.Dispose();
        Assert.False(read.IsActive);
        Assert.False(consumer.TryReceive(out _));
        ShmQueueStatistics stats = queue.GetStatistics();
        Assert.Equal(1, stats.MessagesIn);
        Assert.Equal(1, stats.MessagesOut);
        Assert.Equal(stats.Head, stats.Tail);
    }

    [Theory]
    [InlineData(ShmQueueMode.SingleProducerSingleConsumer)]
    [InlineData(ShmQueueMode.MultiProducerMultiConsumer)]
    public void Batched_Commits_And_Releases_Are_Published_Together(ShmQueueMode mode)
    {
        using var cleanup = new IpcCleanup();
        using var segment = QueueTestSupport.CreateSegment(cleanup);
        using var queue = ShmQueue.OpenOrCreate(segment, "batch", new ShmQueueOptions { Capacity = 4096, Mode = mode });
        using var producer = queue.CreateProducer();
        using var consumer = queue.CreateConsumer();
        for (int i = 0; i < 5; i++)
        {
            var lease = producer.Reserve(8);
            lease.Span.Fill((byte)i);
            lease.Commit(8, publish: false);
        }

        if (mode == ShmQueueMode.SingleProducerSingleConsumer)
        {
            Assert.False(consumer.TryReceive(out _)); // not published yet
        }

        producer.Publish();
        ulong headBefore = queue.GetStatistics().Head;
        for (int i = 0; i < 5; i++)
        {
            Assert.True(consumer.TryReceive(out ShmQueueReadLease read));
            Assert.Equal((byte)i, read.Span[0]);
            read.Release(publish: false);
        }

        Assert.Equal(headBefore, queue.GetStatistics().Head); // the space is not given back yet
        consumer.Publish();
        ShmQueueStatistics stats = queue.GetStatistics();
        Assert.Equal(stats.Tail, stats.Head);
    }

    [Theory]
    [InlineData(ShmQueueMode.SingleProducerSingleConsumer)]
    [InlineData(ShmQueueMode.MultiProducerMultiConsumer)]
    public void Copying_Receives_That_Cannot_Deliver_Leave_The_Message_In_The_Queue(ShmQueueMode mode)
    {
        using var cleanup = new IpcCleanup();
        using var segment = QueueTestSupport.CreateSegment(cleanup);
        using var queue = ShmQueue.OpenOrCreate(segment, "copy", new ShmQueueOptions { Capacity = 4096, Mode = mode });
        using var producer = queue.CreateProducer();
        using var consumer = queue.CreateConsumer();
        producer.Enqueue(new Guid("00112233-4455-6677-8899-aabbccddeeff"));
        Assert.Throws<InvalidDataException>(() => consumer.Receive<long>(Generous));
        Assert.Throws<ArgumentException>(() => consumer.Receive(new byte[4], Generous));
        Assert.Throws<InvalidOperationException>(() => consumer.TryReceive(new ThrowingWriter(), out _));
        Assert.True(consumer.TryReceive(out Guid value));
        Assert.Equal(new Guid("00112233-4455-6677-8899-aabbccddeeff"), value);

        producer.Enqueue([1, 2, 3, 4, 5]);
        var writer = new ArrayBufferWriter<byte>();
        Assert.Equal(5, consumer.Receive(writer, Generous));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, writer.WrittenSpan.ToArray());
        producer.Enqueue(42);
        Assert.Equal(42, consumer.Receive<int>(Generous));
        Assert.False(consumer.TryReceive(out ShmQueueReadLease _));
    }

    [Fact]
    public void Waits_End_At_The_Timeout_On_Cancellation_And_On_Dispose()
    {
        using var cleanup = new IpcCleanup();
        using var segment = QueueTestSupport.CreateSegment(cleanup);
        using var queue = ShmQueue.OpenOrCreate(segment, "wait", new ShmQueueOptions { Capacity = 4096 });
        var consumer = queue.CreateConsumer(new ShmQueueConsumerOptions { WaitStrategy = ShmWaitStrategy.Block });
        Assert.Throws<TimeoutException>(() => consumer.Receive(TimeSpan.FromMilliseconds(30)));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(30));
        Assert.ThrowsAny<OperationCanceledException>(() => consumer.Receive(cancellationToken: cts.Token));

        Exception? caught = null;
        var waiter = new Thread(() =>
        {
            try
            {
                consumer.Receive();
            }
            catch (Exception e)
            {
                caught = e;
            }
        });
        waiter.Start();
        Thread.Sleep(50);
        consumer.Dispose(); // from another thread, while it sleeps in the kernel
        Assert.True(waiter.Join(Generous));
        Assert.IsType<ObjectDisposedException>(caught);
        using var next = queue.CreateConsumer(); // the role was given back
    }

    [Theory]
    [InlineData(ShmQueueMode.SingleProducerSingleConsumer)]
    [InlineData(ShmQueueMode.MultiProducerMultiConsumer)]
    public async Task Async_Waits_Complete_Time_Out_And_Are_Cancelled(ShmQueueMode mode)
    {
        using var cleanup = new IpcCleanup();
        using var segment = QueueTestSupport.CreateSegment(cleanup);
        using var queue = ShmQueue.OpenOrCreate(segment, "async", new ShmQueueOptions { Capacity = 4096, Mode = mode });
        using var producer = queue.CreateProducer();
        using var consumer = queue.CreateConsumer();
        Assert.False(await consumer.WaitToReceiveAsync(TimeSpan.FromMilliseconds(30)));

        using var cts = new CancellationTokenSource();
        ValueTask<bool> pending = consumer.WaitToReceiveAsync(cancellationToken: cts.Token);
        await Task.Delay(30);
        Assert.False(pending.IsCompleted);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);

        ValueTask<int> receive = consumer.ReceiveAsync(new byte[16]);
        await Task.Delay(10);
        await producer.EnqueueAsync(new byte[] { 1, 2, 3 });
        Assert.Equal(3, await receive);

        // Room: fill the ring, then wait for the consumer to drain it.
        while (producer.TryEnqueue(new byte[500]))
        {
        }

        ValueTask<bool> room = producer.WaitToReserveAsync(500, Generous);
        Assert.False(room.IsCompleted);
        while (consumer.TryReceive(new byte[500], out _))
        {
        }

        Assert.True(await room);
        Assert.True(producer.TryEnqueue(new byte[500]));
    }

    [Fact]
    public async Task Dispose_Ends_An_Async_Wait_With_ObjectDisposedException()
    {
        using var cleanup = new IpcCleanup();
        using var segment = QueueTestSupport.CreateSegment(cleanup);
        using var queue = ShmQueue.OpenOrCreate(segment, "async-dispose", new ShmQueueOptions { Capacity = 4096 });
        var consumer = queue.CreateConsumer();
        ValueTask<bool> pending = consumer.WaitToReceiveAsync();
        await Task.Delay(30);
        consumer.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await pending);
    }

    [Fact]
    public void A_Queue_Of_Its_Own_Lives_In_A_Managed_Segment_Sized_For_It()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        using var created = ShmQueue.Create(key, new ShmQueueOptions { Capacity = 8192, Mode = ShmQueueMode.MultiProducerMultiConsumer });
        Assert.Equal(ShmQueue.OwnSegmentQueueName, created.Name);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, created.Segment.Segment.Stat().Mode);
        Assert.Throws<IpcObjectExistsException>(() => ShmQueue.Create(key));
        using var opened = ShmQueue.Open(key);
        Assert.Equal(ShmQueueMode.MultiProducerMultiConsumer, opened.Mode);
        using var again = ShmQueue.OpenOrCreate(key, new ShmQueueOptions { Capacity = 8192, Mode = ShmQueueMode.MultiProducerMultiConsumer });
        Assert.False(again.WasCreated);
        Assert.Throws<ShmQueueModeMismatchException>(() => ShmQueue.Open(key, ShmQueueMode.SingleProducerSingleConsumer));
        using var producer = created.CreateProducer();
        using var consumer = opened.CreateConsumer();
        producer.Enqueue([5]);
        Assert.Equal(5, consumer.Receive(Generous).Span[0]);
    }

    [Fact]
    public void Sending_And_Receiving_Allocates_Nothing()
    {
        using var cleanup = new IpcCleanup();
        using var segment = QueueTestSupport.CreateSegment(cleanup);
        foreach (ShmQueueMode mode in new[] { ShmQueueMode.SingleProducerSingleConsumer, ShmQueueMode.MultiProducerMultiConsumer })
        {
            using var queue = ShmQueue.OpenOrCreate(segment, mode.ToString()[..8], new ShmQueueOptions { Capacity = 4096, Mode = mode });
            using var producer = queue.CreateProducer();
            using var consumer = queue.CreateConsumer();
            byte[] message = new byte[64];
            byte[] received = new byte[64];
            void Round()
            {
                producer.Enqueue(message);
                consumer.Receive(received);
                using (var w = producer.Reserve(64))
                {
                    w.Commit();
                }

                using (var r = consumer.Receive())
                {
                    _ = r.Span[0];
                }

                producer.TryEnqueue(12345L);
                if (!CompletedTrue(consumer.WaitToReceiveAsync()))
                {
                    throw new InvalidOperationException("no message");
                }

                consumer.TryReceive(out long _);
            }

            for (int i = 0; i < 100; i++)
            {
                Round();
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10_000; i++)
            {
                Round();
            }

            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    private static bool CompletedTrue(ValueTask<bool> wait) => wait.IsCompleted && wait.Result;

    private sealed class ThrowingWriter : IBufferWriter<byte>
    {
        public void Advance(int count) => throw new InvalidOperationException("no");

        public Memory<byte> GetMemory(int sizeHint = 0) => new byte[Math.Max(sizeHint, 1)];

        public Span<byte> GetSpan(int sizeHint = 0) => new byte[Math.Max(sizeHint, 1)];
    }
}
