using System.Text;

namespace ShmKit.Tests.Messaging;

/// <summary>Send, receive, type selection, truncation, full and empty queues, timeouts, cancellation, removal.</summary>
public class MessageQueueTests
{
    [Fact]
    public void OpenOrCreate_Tells_Whether_It_Created_The_Queue()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var first = MessageQueue.OpenOrCreate(key);
        cleanup.AddId('q', first.Id);
        Assert.True(first.WasCreated);
        var second = MessageQueue.OpenOrCreate(key);
        Assert.Equal(first.Id, second.Id);
        Assert.False(second.WasCreated);
        Assert.False(MessageQueue.Open(key).WasCreated);
        Assert.False(MessageQueue.OpenById(first.Id).WasCreated);
        var created = MessageQueue.CreatePrivate();
        cleanup.AddId('q', created.Id);
        Assert.True(created.WasCreated);
    }

    [Fact]
    public void Receive_Selects_By_Type()
    {
        using var cleanup = new IpcCleanup();
        var queue = NewQueue(cleanup);
        foreach (var (type, text) in new[] { (3L, "a"), (1L, "b"), (2L, "c"), (3L, "d"), (1L, "e") })
        {
            queue.Send(type, Encoding.ASCII.GetBytes(text));
        }

        Span<byte> buffer = stackalloc byte[64];

        // 0: the first message, whatever its type.
        Assert.Equal(("a", 3L), Take(queue, buffer, 0));

        // > 0: the first message of that type.
        Assert.Equal(("b", 1L), Take(queue, buffer, 1));

        // < 0: the lowest type <= |selector|, not the oldest: "e" (type 1) before the older "c" (type 2).
        Assert.Equal(("e", 1L), Take(queue, buffer, -2));
        Assert.Equal(("c", 2L), Take(queue, buffer, -2));

        // Only type 3 ("d") is left: -2 finds nothing, ExceptType 3 finds nothing, 3 finds it.
        Assert.False(queue.TryReceive(buffer, out _, out _, -2));
        Assert.False(queue.TryReceive(buffer, out _, out _, 3, MessageReceiveOptions.ExceptType));
        Assert.Equal(("d", 3L), Take(queue, buffer, 3));
        Assert.False(queue.TryReceive(buffer, out int length, out long none));
        Assert.Equal(0, length);
        Assert.Equal(0, none);
    }

    [Fact]
    public void ExceptType_Takes_The_First_Message_Of_Another_Type()
    {
        using var cleanup = new IpcCleanup();
        var queue = NewQueue(cleanup);
        queue.Send(5, "x"u8);
        queue.Send(5, "y"u8);
        queue.Send(9, "z"u8);
        queue.Send(2, "w"u8);

        Span<byte> buffer = stackalloc byte[8];
        int length = queue.Receive(buffer, out long type, 5, MessageReceiveOptions.ExceptType);
        Assert.Equal(9, type);
        Assert.Equal("z", Encoding.ASCII.GetString(buffer[..length]));

        // The kernel ignores MSG_EXCEPT for selectors <= 0, so the API refuses that combination.
        Assert.Throws<ArgumentException>(() => queue.TryReceive(new byte[8], out _, out _, 0, MessageReceiveOptions.ExceptType));
        Assert.Throws<ArgumentException>(() => queue.TryReceive(new byte[8], out _, out _, -3, MessageReceiveOptions.ExceptType));
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.TryReceive(new byte[8], out _, out _, 0, (MessageReceiveOptions)0x40));
    }

    [Fact]
    public void Payloads_Of_Every_Size_Round_Trip()
    {
        using var cleanup = new IpcCleanup();
        var queue = NewQueue(cleanup);
        int msgmax = MessageQueue.GetLimits().MaxMessageSize;
        byte[] big = new byte[msgmax * 2];

        foreach (int size in new[] { 0, 1, 7, 8, 4096, msgmax - 1, msgmax })
        {
            byte[] payload = Pattern(size, seed: size);
            queue.Send(42, payload);

            // A buffer of exactly the payload's size (stack path), and one larger than 8 KiB (native memory path).
            byte[] exact = new byte[size];
            Assert.Equal(size, queue.Receive(exact, out long type));
            Assert.Equal(42, type);
            Assert.Equal(payload, exact);

            queue.Send(43, payload);
            Assert.Equal(size, queue.Receive(big, out type));
            Assert.Equal(43, type);
            Assert.Equal(payload, big[..size]);
        }
    }

    [Fact]
    public void Send_Rejects_Types_Below_One_And_Payloads_Above_Msgmax()
    {
        using var cleanup = new IpcCleanup();
        var queue = NewQueue(cleanup);
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.Send(0, "a"u8));
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.TrySend(-1, "a"u8));

        int msgmax = MessageQueue.GetLimits().MaxMessageSize;
        var e = Assert.Throws<IpcSizeException>(() => queue.Send(1, new byte[msgmax + 1]));
        Assert.Contains($"msgmax={msgmax}", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<IpcSizeException>(() => queue.TrySend(1, new byte[msgmax * 4]));
        Assert.Contains($"msgmax={msgmax}", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, queue.Stat().MessageCount);
    }

    [Fact]
    public void Too_Small_Buffer_Throws_And_Keeps_The_Message_Unless_Truncating()
    {
        using var cleanup = new IpcCleanup();
        var queue = NewQueue(cleanup);
        byte[] payload = Pattern(100, seed: 1);
        queue.Send(7, payload);

        byte[] small = new byte[10];
        var e = Assert.Throws<IpcSizeException>(() => queue.Receive(small, out _));
        Assert.Contains("larger than the buffer of 10 bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains("stays in the queue", e.Message, StringComparison.Ordinal);
        Assert.Throws<IpcSizeException>(() => queue.TryReceive(small, out _, out _));
        Assert.Equal(1, queue.Stat().MessageCount);

        // Truncate: the first 10 bytes; the rest of the message is gone.
        Assert.True(queue.TryReceive(small, out int length, out long type, options: MessageReceiveOptions.Truncate));
        Assert.Equal(10, length);
        Assert.Equal(7, type);
        Assert.Equal(payload[..10], small);
        Assert.Equal(0, queue.Stat().MessageCount);
    }

    [Fact]
    public void TrySend_Returns_False_When_The_Queue_Is_Full()
    {
        using var cleanup = new IpcCleanup();
        var queue = NewQueue(cleanup);
        var info = queue.Stat();
        int msgmax = MessageQueue.GetLimits().MaxMessageSize;
        byte[] payload = new byte[msgmax];

        int sent = 0;
        while (queue.TrySend(1, payload))
        {
            sent++;
            Assert.True(sent <= info.MaxBytes / msgmax, "the queue accepted more bytes than its capacity");
        }

        var full = queue.Stat();
        Assert.Equal(info.MaxBytes / msgmax, sent);
        Assert.True(full.CurrentBytes + msgmax > full.MaxBytes);
        Assert.Throws<TimeoutException>(() => queue.Send(1, payload, TimeSpan.Zero));
        Assert.Throws<TimeoutException>(() => queue.Send(1, payload, TimeSpan.FromMilliseconds(30)));

        // Room again after one receive.
        Assert.Equal(msgmax, queue.Receive(new byte[msgmax], out _));
        Assert.True(queue.TrySend(1, payload));
    }

    [Fact]
    public void Capacity_Also_Limits_The_Number_Of_Messages()
    {
        using var cleanup = new IpcCleanup();
        var queue = NewQueue(cleanup);
        queue.SetMaxBytes(4);

        // Zero-length messages use no bytes, but the kernel also caps the message count at msg_qbytes.
        for (int i = 0; i < 4; i++)
        {
            Assert.True(queue.TrySend(1, []));
        }

        Assert.False(queue.TrySend(1, []));
        var info = queue.Stat();
        Assert.Equal(4, info.MessageCount);
        Assert.Equal(0, info.CurrentBytes);
    }

    [Fact]
    public void Receive_On_An_Empty_Queue_Times_Out_And_TryReceive_Returns_False()
    {
        using var cleanup = new IpcCleanup();
        var queue = NewQueue(cleanup);
        byte[] buffer = new byte[16];
        Assert.False(queue.TryReceive(buffer, out _, out _));
        Assert.Throws<TimeoutException>(() => queue.Receive(buffer, out _, timeout: TimeSpan.Zero));
        var e = Assert.Throws<TimeoutException>(() => queue.Receive(buffer, out _, 4, timeout: TimeSpan.FromMilliseconds(50)));
        Assert.Contains("type selector 4", e.Message, StringComparison.Ordinal);

        // A message of another type does not end the wait.
        queue.Send(3, "other"u8);
        Assert.Throws<TimeoutException>(() => queue.Receive(buffer, out _, 4, timeout: TimeSpan.FromMilliseconds(20)));
        Assert.Equal(5, queue.Receive(buffer, out long type, 3, timeout: TimeSpan.FromSeconds(5)));
        Assert.Equal(3, type);

        Assert.Throws<ArgumentOutOfRangeException>(() => queue.Receive(buffer, out _, timeout: TimeSpan.FromSeconds(-2)));
    }

    [Fact]
    public async Task A_Polled_Receive_Gets_A_Message_Sent_While_It_Waits()
    {
        using var cleanup = new IpcCleanup();
        var queue = NewQueue(cleanup);
        using var cts = new CancellationTokenSource();
        var receiver = Task.Run(() =>
        {
            byte[] buffer = new byte[16];
            int length = queue.Receive(buffer, out long type, 2, cancellationToken: cts.Token);
            return (type, Encoding.ASCII.GetString(buffer, 0, length));
        });

        await Task.Delay(50);
        queue.Send(1, "not me"u8);
        queue.Send(2, "me"u8);
        Assert.Equal((2L, "me"), await receiver.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, queue.Stat().MessageCount);
    }

    [Fact]
    public async Task Cancelling_A_Blocked_Receive_Throws_OperationCanceledException()
    {
        using var cleanup = new IpcCleanup();
        var queue = NewQueue(cleanup);
        using var cts = new CancellationTokenSource();
        var receiver = Task.Run(() => queue.Receive(new byte[16], out _, cancellationToken: cts.Token));

        await Task.Delay(100);
        Assert.False(receiver.IsCompleted);
        await cts.CancelAsync();
        var canceled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receiver.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(cts.Token, canceled.CancellationToken);

        // An already cancelled token throws before anything is sent or received.
        queue.Send(1, "kept"u8);
        Assert.Throws<OperationCanceledException>(() => queue.Receive(new byte[16], out _, cancellationToken: cts.Token));
        Assert.Throws<OperationCanceledException>(() => queue.Send(1, "x"u8, cancellationToken: cts.Token));
        Assert.Equal(1, queue.Stat().MessageCount);
    }

    [Fact]
    public async Task Cancelling_A_Send_Blocked_On_A_Full_Queue_Throws_OperationCanceledException()
    {
        using var cleanup = new IpcCleanup();
        var queue = NewQueue(cleanup);
        queue.SetMaxBytes(1);
        Assert.True(queue.TrySend(1, "a"u8));

        using var cts = new CancellationTokenSource();
        var sender = Task.Run(() => queue.Send(1, "b"u8, cancellationToken: cts.Token));
        await Task.Delay(100);
        Assert.False(sender.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sender.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, queue.Stat().MessageCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Removing_The_Queue_Wakes_A_Waiting_Receiver(bool polling)
    {
        using var cleanup = new IpcCleanup();
        var queue = NewQueue(cleanup);

        // polling: a timeout makes the wait poll with IPC_NOWAIT; otherwise it is one blocking msgrcv.
        var receiver = Task.Run(() => queue.Receive(new byte[16], out _, timeout: polling ? TimeSpan.FromSeconds(30) : null));
        await Task.Delay(100);
        Assert.False(receiver.IsCompleted);
        queue.Remove();
        var removed = await Assert.ThrowsAsync<IpcObjectRemovedException>(() => receiver.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(queue.Id, removed.Id);
        Assert.Equal(IpcObjectKind.MessageQueue, removed.Kind);
    }

    [Fact]
    public async Task Removing_The_Queue_Wakes_A_Waiting_Sender()
    {
        using var cleanup = new IpcCleanup();
        var queue = NewQueue(cleanup);
        queue.SetMaxBytes(1);
        Assert.True(queue.TrySend(1, "a"u8));

        var sender = Task.Run(() => queue.Send(1, "b"u8));
        await Task.Delay(100);
        Assert.False(sender.IsCompleted);
        queue.Remove();
        await Assert.ThrowsAsync<IpcObjectRemovedException>(() => sender.WaitAsync(TimeSpan.FromSeconds(10)));

        // And every later call on the stale id says so too.
        Assert.Throws<IpcObjectRemovedException>(() => queue.TrySend(1, "c"u8));
        Assert.Throws<IpcObjectRemovedException>(() => queue.TryReceive(new byte[4], out _, out _));
        Assert.Throws<IpcObjectRemovedException>(() => queue.Stat());
        Assert.Throws<IpcObjectRemovedException>(() => queue.Remove());
    }

    [Fact]
    public void Create_And_Open_Map_To_Specific_Exceptions()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        Assert.Throws<IpcObjectNotFoundException>(() => MessageQueue.Open(key));

        var created = MessageQueue.CreateNew(key);
        Assert.Equal(key, created.Key);
        var e = Assert.Throws<IpcObjectExistsException>(() => MessageQueue.CreateNew(key));
        Assert.Contains(key.ToString(), e.Message, StringComparison.Ordinal);

        Assert.Equal(created.Id, MessageQueue.Open(key).Id);
        Assert.Equal(created.Id, MessageQueue.OpenOrCreate(key).Id);
        var byId = MessageQueue.OpenById(created.Id);
        Assert.Equal(key, byId.Key);

        Assert.Throws<ArgumentException>(() => MessageQueue.Open(IpcKey.Private));
        Assert.Throws<ArgumentException>(() => MessageQueue.OpenOrCreate(IpcKey.Private));
        Assert.Throws<ArgumentOutOfRangeException>(() => MessageQueue.CreateNew(cleanup.NewKey(), (UnixFileMode)0x800));

        MessageQueue.Remove(created.Id);
        Assert.Throws<IpcObjectNotFoundException>(() => MessageQueue.Open(key));
        Assert.Throws<IpcObjectNotFoundException>(() => MessageQueue.OpenById(created.Id));
        Assert.Throws<IpcObjectNotFoundException>(() => MessageQueue.Remove(created.Id));
    }

    [Fact]
    public void Send_And_Receive_Allocate_Nothing()
    {
        using var cleanup = new IpcCleanup();
        var queue = NewQueue(cleanup);
        byte[] payload = Pattern(200, seed: 3);
        byte[] buffer = new byte[256];
        byte[] large = new byte[20_000];
        using var cts = new CancellationTokenSource();

        void RoundTrips(int count)
        {
            for (int i = 0; i < count; i++)
            {
                queue.Send(1 + (i % 3), payload);
                queue.Receive(buffer, out _);
                queue.TrySend(2, payload);
                queue.TryReceive(buffer, out _, out _, -5);
                queue.Send(3, payload, TimeSpan.FromSeconds(5), cts.Token);
                queue.Receive(large, out _, 3, MessageReceiveOptions.Truncate, TimeSpan.FromSeconds(5), cts.Token);
            }
        }

        RoundTrips(200);
        long before = GC.GetAllocatedBytesForCurrentThread();
        RoundTrips(1000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    internal static MessageQueue NewQueue(IpcCleanup cleanup, UnixFileMode mode = MessageQueue.DefaultMode)
    {
        var queue = MessageQueue.CreatePrivate(mode);
        cleanup.AddId('q', queue.Id);
        return queue;
    }

    internal static byte[] Pattern(int size, int seed)
    {
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++)
        {
            bytes[i] = unchecked((byte)((i * 31) + seed));
        }

        return bytes;
    }

    private static (string Text, long Type) Take(MessageQueue queue, Span<byte> buffer, long selector)
    {
        int length = queue.Receive(buffer, out long type, selector, timeout: TimeSpan.Zero);
        return (Encoding.ASCII.GetString(buffer[..length]), type);
    }
}
