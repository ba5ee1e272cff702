using System.Buffers.Binary;
using System.Globalization;

namespace ShmKit.TestChild;

/// <summary>The other process of the message queue tests (tests/ShmKit.Tests/Messaging).</summary>
internal static class MessageQueueVerbs
{
    private const int MaxPayload = 512;

    /// <summary>
    /// msgq-send &lt;id&gt; &lt;count&gt;: sends <c>count</c> messages of mixed types and sizes in the pattern of
    /// <see cref="Expected"/>, then prints "SENT count".
    /// </summary>
    [Verb("msgq-send")]
    public static int Send(string[] args)
    {
        var queue = MessageQueue.OpenById(int.Parse(args[0], CultureInfo.InvariantCulture));
        int count = int.Parse(args[1], CultureInfo.InvariantCulture);
        Console.WriteLine("READY");
        Span<byte> payload = stackalloc byte[MaxPayload];
        for (int i = 0; i < count; i++)
        {
            var (type, length) = Expected(i, payload);
            queue.Send(type, payload[..length], TimeSpan.FromSeconds(20));
        }

        Console.WriteLine($"SENT {count}");
        return 0;
    }

    /// <summary>
    /// msgq-receive &lt;id&gt; &lt;count&gt;: receives <c>count</c> messages (selector 0) and checks each against
    /// <see cref="Expected"/>; prints "RECEIVED count" or the first mismatch and exits 1.
    /// </summary>
    [Verb("msgq-receive")]
    public static int Receive(string[] args)
    {
        var queue = MessageQueue.OpenById(int.Parse(args[0], CultureInfo.InvariantCulture));
        int count = int.Parse(args[1], CultureInfo.InvariantCulture);
        Console.WriteLine("READY");
        Span<byte> expected = stackalloc byte[MaxPayload];
        Span<byte> buffer = stackalloc byte[MaxPayload];
        for (int i = 0; i < count; i++)
        {
            var (expectedType, expectedLength) = Expected(i, expected);
            int length = queue.Receive(buffer, out long type, timeout: TimeSpan.FromSeconds(20));
            if (type != expectedType || !buffer[..length].SequenceEqual(expected[..expectedLength]))
            {
                Console.Error.WriteLine($"message {i}: got type {type} and {length} bytes, expected type {expectedType} and {expectedLength} bytes");
                return 1;
            }
        }

        Console.WriteLine($"RECEIVED {count}");
        return 0;
    }

    /// <summary>
    /// msgq-access &lt;key&gt;: run as another user; opens the queue and tries to send, receive and stat, printing
    /// "op: ok" or "op: ExceptionType" for each.
    /// </summary>
    [Verb("msgq-access")]
    public static int Access(string[] args)
    {
        var key = IpcKey.Parse(args[0], CultureInfo.InvariantCulture);
        MessageQueue queue;
        try
        {
            queue = MessageQueue.Open(key);
            Console.WriteLine("open: ok");
        }
        catch (Exception e) when (e is IpcException or UnauthorizedAccessException)
        {
            Console.WriteLine($"open: {e.GetType().Name}");
            return 0;
        }

        Report("send", () => queue.TrySend(1, [1, 2, 3]));
        Report("receive", () => queue.TryReceive(new byte[16], out _, out _));
        Report("stat", () => queue.Stat());
        return 0;
    }

    /// <summary>
    /// msgq-unreadable &lt;key&gt;: run as another user; creates a queue whose mode (0200) lets its owner send but
    /// not receive or stat, sends to it by key and by id, and removes it by id. Prints "op: ok" or
    /// "op: ExceptionType: message" for each step.
    /// </summary>
    [Verb("msgq-unreadable")]
    public static int Unreadable(string[] args)
    {
        var key = IpcKey.Parse(args[0], CultureInfo.InvariantCulture);
        MessageQueue? created = null;
        Report("create", () => created = MessageQueue.CreateNew(key, UnixFileMode.UserWrite));
        Report("send-by-key", () => MessageQueue.Open(key).TrySend(1, [1]));
        Report("open-or-create", () =>
        {
            var opened = MessageQueue.OpenOrCreate(key, UnixFileMode.UserWrite);
            if (opened.WasCreated || !created!.WasCreated)
            {
                throw new IpcException("WasCreated is wrong");
            }

            opened.TrySend(1, [2]);
        });
        Report("send-by-id", () => MessageQueue.OpenById(created!.Id).TrySend(1, [3]));
        Report("remove-by-id", () => MessageQueue.OpenById(created!.Id).Remove());
        if (created is not null)
        {
            try
            {
                MessageQueue.Remove(created.Id);
                Console.WriteLine("LEAKED");
            }
            catch (IpcObjectNotFoundException)
            {
            }
        }

        return 0;
    }

    /// <summary>msgq-setmaxbytes &lt;id&gt; &lt;bytes&gt;: prints "setmaxbytes: ok" or the exception's type and message.</summary>
    [Verb("msgq-setmaxbytes")]
    public static int SetMaxBytes(string[] args)
    {
        var queue = MessageQueue.OpenById(int.Parse(args[0], CultureInfo.InvariantCulture));
        Report("setmaxbytes", () => queue.SetMaxBytes(long.Parse(args[1], CultureInfo.InvariantCulture)));
        return 0;
    }

    /// <summary>Message <paramref name="index"/> of the cross-process pattern: type 1..5, 0..300 bytes plus a 4-byte index.</summary>
    internal static (long Type, int Length) Expected(int index, Span<byte> payload)
    {
        long type = (index % 5) + 1;
        int length = 4 + (index * 37 % 301);
        BinaryPrimitives.WriteInt32LittleEndian(payload, index);
        for (int j = 4; j < length; j++)
        {
            payload[j] = unchecked((byte)(index * 7 + j));
        }

        return (type, length);
    }

    private static void Report(string operation, Action action)
    {
        try
        {
            action();
            Console.WriteLine($"{operation}: ok");
        }
        catch (Exception e) when (e is IpcException or UnauthorizedAccessException)
        {
            // IpcAccessDeniedException is an UnauthorizedAccessException, not an IpcException.
            Console.WriteLine($"{operation}: {e.GetType().Name}: {e.Message}");
        }
    }
}
