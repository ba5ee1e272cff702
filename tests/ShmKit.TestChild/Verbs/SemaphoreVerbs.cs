using System.Globalization;

namespace ShmKit.TestChild;

/// <summary>The other processes of the semaphore, rendezvous and signal tests (tests/ShmKit.Tests/Synchronization).</summary>
internal static class SemaphoreVerbs
{
    private static readonly TimeSpan s_long = TimeSpan.FromSeconds(20);

    /// <summary>
    /// args: key iterations. Opens the set (sem 0 = lock, sem 1 = start barrier) and the segment with the same key,
    /// waits for the barrier to drop to zero, then increments the long at offset 0 under the lock, non-atomically
    /// (read, then write), <c>iterations</c> times.
    /// </summary>
    [Verb("sem-counter")]
    public static int Counter(string[] args)
    {
        IpcKey key = IpcKey.Parse(args[0]);
        int iterations = int.Parse(args[1], CultureInfo.InvariantCulture);
        var set = SemaphoreSet.Open(key);
        using var attachment = SharedMemorySegment.Open(key).Attach();
        Console.WriteLine("READY");
        set.WaitForZero(1, s_long);
        for (int i = 0; i < iterations; i++)
        {
            using (set.Lock(0, s_long))
            {
                // Offset 0 (long): written by every sem-counter process, always inside the lock (sem 0); read by the
                // test after all have exited. The semop that takes the lock orders this read after the previous
                // holder's write (the kernel's lock on the set is a full barrier), so nobody sees a stale or torn value.
                long value = attachment.Read<long>(0);
                attachment.Write(0, value + 1);
            }
        }

        Console.WriteLine("DONE");
        return 0;
    }

    /// <summary>args: key. Takes the lock on sem 0 with SEM_UNDO, prints LOCKED and sleeps until killed.</summary>
    [Verb("sem-hold")]
    public static int Hold(string[] args)
    {
        var set = SemaphoreSet.Open(IpcKey.Parse(args[0]));
        set.Wait(0, 1, s_long);
        Console.WriteLine("LOCKED");
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }

    /// <summary>
    /// args: key barrierId. Waits on the barrier (sem 0 of the barrier set reaching zero), then races
    /// OpenOrCreate(key, [3, 0, 7]); prints CREATED or OPENED and the values it saw, then adds 1 to sem 1.
    /// </summary>
    [Verb("sem-race")]
    public static int Race(string[] args)
    {
        IpcKey key = IpcKey.Parse(args[0]);
        var barrier = SemaphoreSet.OpenById(int.Parse(args[1], CultureInfo.InvariantCulture));
        Console.WriteLine("READY");
        barrier.WaitForZero(0, s_long);
        var set = SemaphoreSet.OpenOrCreate(key, [3, 0, 7]);
        int[] values = set.GetValues();
        Console.WriteLine(set.WasCreated ? "CREATED" : "OPENED");
        Console.WriteLine("SAW " + values[0].ToString(CultureInfo.InvariantCulture) + "," + values[2].ToString(CultureInfo.InvariantCulture));
        set.Release(1, 1, undo: false);
        return 0;
    }

    /// <summary>
    /// args: key. Run as another user: tries Open(key), then OpenById and Release on the id given second (if any);
    /// prints the exception type of each attempt (or OK).
    /// </summary>
    [Verb("sem-foreign")]
    public static int Foreign(string[] args)
    {
        Console.WriteLine("OPEN " + Attempt(() => SemaphoreSet.Open(IpcKey.Parse(args[0]), TimeSpan.FromSeconds(1))));
        if (args.Length > 1)
        {
            int id = int.Parse(args[1], CultureInfo.InvariantCulture);
            Console.WriteLine("RELEASE " + Attempt(() => SemaphoreSet.OpenById(id).Release(0, 1, undo: false)));
            Console.WriteLine("REMOVE " + Attempt(() => SemaphoreSet.Remove(id)));
        }

        return 0;
    }

    /// <summary>
    /// args: key1 key2. Run as an unprivileged user. key1: creates a set whose mode (0200) lets its owner alter but
    /// not read it, opens it by key, releases and takes semaphore 0, sets the mode again and removes it. key2: a set
    /// that the parent made with mode 0602 (others may alter, not read): opens it, releases semaphore 0, tries to
    /// remove it. Prints "name: OK" or "name: ExceptionType" for each step.
    /// </summary>
    [Verb("sem-alter-only")]
    public static int AlterOnly(string[] args)
    {
        IpcKey key1 = IpcKey.Parse(args[0]);
        IpcKey key2 = IpcKey.Parse(args[1]);
        var timeout = TimeSpan.FromSeconds(2);
        Report("create-0200", () => SemaphoreSet.CreateNew(key1, [0], UnixFileMode.UserWrite));
        Report("open-0200", () => SemaphoreSet.Open(key1, timeout));
        Report("release-0200", () => SemaphoreSet.Open(key1, timeout).Release(0, 1, undo: false));
        Report("trywait-0200", () =>
        {
            if (!SemaphoreSet.Open(key1, timeout).TryWait(0, 1, undo: false))
            {
                throw new InvalidOperationException("the release did not arrive");
            }
        });
        Report("setmode-0200", () => SemaphoreSet.Open(key1, timeout).SetMode(UnixFileMode.UserWrite));
        Report("remove-0200", () => SemaphoreSet.Open(key1, timeout).Remove());
        Report("open-0602", () => SemaphoreSet.Open(key2, timeout));
        Report("release-0602", () => SemaphoreSet.Open(key2, timeout).Release(0, 1, undo: false));
        Report("remove-0602", () => SemaphoreSet.Open(key2, timeout).Remove());
        return 0;
    }

    /// <summary>
    /// args: key records. The client of the handshake test: opens the rendezvous (retrying until the server creates
    /// it), waits until it is ready, verifies every record and the checksum after them; then updates record
    /// <c>records/2</c> under the lock (UPDATED), and after a line on stdin prints the record the server changed.
    /// </summary>
    [Verb("rdv-client")]
    public static int RendezvousClient(string[] args)
    {
        IpcKey key = IpcKey.Parse(args[0]);
        int records = int.Parse(args[1], CultureInfo.InvariantCulture);
        Console.WriteLine("STARTED");
        using var region = SharedMemoryRendezvous.Open(key, s_long);
        Console.WriteLine("OPENED");
        region.WaitReady(s_long);

        // Records (long at i * 8) and the checksum after them: written by the server before MarkReady, read here
        // after WaitReady (the gate's semop orders them); later single records are written by either side, only
        // inside the lock, so a reader inside the lock sees each record whole and current.
        long sum = 0;
        using (region.Lock(s_long))
        {
            for (int i = 0; i < records; i++)
            {
                long value = region.Attachment.Read<long>(i * 8L);
                if (value != RecordValue(i))
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"BAD record {i}: {value:x}"));
                    return 1;
                }

                sum = unchecked(sum + value);
            }

            long checksum = region.Attachment.Read<long>(records * 8L);
            if (checksum != sum)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"BAD checksum {checksum:x} != {sum:x}"));
                return 1;
            }
        }

        Console.WriteLine("VERIFIED");
        using (region.Lock(s_long))
        {
            region.Attachment.Write(records / 2 * 8L, -1L);
        }

        Console.WriteLine("UPDATED");
        _ = Console.ReadLine();
        using (region.Lock(s_long))
        {
            var line = new System.Text.StringBuilder("RECORDS");
            for (int i = 0; i < records; i++)
            {
                line.Append(' ').Append(region.Attachment.Read<long>(i * 8L).ToString(CultureInfo.InvariantCulture));
            }

            Console.WriteLine(line.ToString());
        }

        return 0;
    }

    /// <summary>The value record <paramref name="index"/> of the handshake test holds.</summary>
    internal static long RecordValue(int index) => unchecked((index + 1) * 0x1F2E3D4C5B6A7988L);

    /// <summary>
    /// args: count. Listens for SIGUSR1, prints READY and its pid, then waits (alternating Wait and WaitAsync)
    /// for <c>count</c> signals, printing GOT n after each; exits 3 on a 20 s timeout.
    /// </summary>
    [Verb("signal-listen")]
    public static int SignalListen(string[] args)
    {
        int count = int.Parse(args[0], CultureInfo.InvariantCulture);
        using var listener = new ProcessSignalListener(NotificationSignal.User1);
        Console.WriteLine("READY " + ProcessSignalListener.ProcessId.ToString(CultureInfo.InvariantCulture));
        for (int i = 1; i <= count; i++)
        {
            bool got = i % 2 == 0
                ? listener.WaitAsync(s_long).GetAwaiter().GetResult()
                : listener.Wait(s_long);
            if (!got)
            {
                Console.WriteLine("TIMEOUT");
                return 3;
            }

            Console.WriteLine("GOT " + i.ToString(CultureInfo.InvariantCulture));
        }

        Console.WriteLine("RECEIVED " + listener.ReceivedCount.ToString(CultureInfo.InvariantCulture));
        return 0;
    }

    /// <summary>
    /// args: none. Listens for SIGUSR1, disposes the listener, prints READY and sleeps: shows what a signal does to a
    /// process that stopped listening.
    /// </summary>
    [Verb("signal-disposed")]
    public static int SignalDisposed(string[] args)
    {
        new ProcessSignalListener(NotificationSignal.User1).Dispose();
        Console.WriteLine("READY");
        Thread.Sleep(TimeSpan.FromSeconds(30));
        Console.WriteLine("SURVIVED");
        return 0;
    }

    /// <summary>args: pid. Sends SIGUSR1 to the process, from .NET.</summary>
    [Verb("signal-send")]
    public static int SignalSend(string[] args)
    {
        ProcessSignalNotifier.Send(int.Parse(args[0], CultureInfo.InvariantCulture), NotificationSignal.User1);
        Console.WriteLine("SENT");
        return 0;
    }

    private static void Report(string name, Action action)
    {
        Console.WriteLine(name + ": " + Attempt(action));
    }

    private static string Attempt(Action action)
    {
        try
        {
            action();
            return "OK";
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"{e.GetType().Name}: {e.Message}");
            return e.GetType().Name;
        }
    }
}
