using System.Globalization;

namespace ShmKit.TestChild;

/// <summary>
/// The other processes of the ShmMutex, ShmSemaphore and ShmEvent tests (tests/ShmKit.Tests/Synchronization). Each
/// opens the managed segment by key and the primitive by name. Shared data written here: the 64-bit counters in named
/// blocks, written only under the lock (ShmMutex) — the lock word's CAS on acquire and the release's CAS order them —
/// or with Interlocked (the semaphore's in-use count), and read by the test after the children have finished.
/// </summary>
internal static class SyncVerbs
{
    private static readonly TimeSpan s_long = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Args: key mutex block iterations mode(sync|async|try) strategy. Prints READY, waits for "GO" on stdin, then
    /// increments the long at the block's offset non-atomically (read, spin, write) under the mutex, iterations times.
    /// Prints "DONE abandoned" (how many acquisitions reported abandonment).
    /// </summary>
    [Verb("mutex-count")]
    public static int MutexCount(string[] args)
    {
        using var segment = ManagedSegment.Open(IpcKey.Parse(args[0], CultureInfo.InvariantCulture), s_long);
        using var mutex = ShmMutex.OpenOrCreate(segment, args[1]);
        long offset = segment.OpenOrCreateBlock(args[2], 64).Offset;
        int iterations = int.Parse(args[3], CultureInfo.InvariantCulture);
        string mode = args[4];
        mutex.WaitStrategy = Enum.Parse<ShmWaitStrategy>(args[5]);
        Console.WriteLine("READY");
        if (Console.ReadLine() != "GO")
        {
            return 2;
        }

        int abandoned = 0;
        for (int i = 0; i < iterations; i++)
        {
            ShmMutexHolder holder = mode switch
            {
                "async" => mutex.LockAsync(s_long).AsTask().GetAwaiter().GetResult(),
                "try" => TryLockLoop(mutex),
                _ => mutex.Lock(s_long),
            };
            using (holder)
            {
                if (holder.IsAbandoned)
                {
                    abandoned++;
                    holder.MarkConsistent();
                }

                Increment(segment, offset);
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"DONE {abandoned}"));
        return 0;
    }

    /// <summary>
    /// Args: key semaphore count block iterations. Prints READY, waits for "GO", then iterations times: waits on the
    /// semaphore, Interlocked.Increments the in-use long at the block (offset 0) and counts a violation when it exceeds
    /// count, adds to the total (offset 8, Interlocked), spins, decrements, releases. Prints "DONE violations maxSeen".
    /// </summary>
    [Verb("sem-holders")]
    public static unsafe int SemaphoreHolders(string[] args)
    {
        using var segment = ManagedSegment.Open(IpcKey.Parse(args[0], CultureInfo.InvariantCulture), s_long);
        int count = int.Parse(args[2], CultureInfo.InvariantCulture);
        using var semaphore = ShmSemaphore.OpenOrCreate(segment, args[1], count, count);
        long offset = segment.OpenOrCreateBlock(args[3], 64).Offset;
        int iterations = int.Parse(args[4], CultureInfo.InvariantCulture);
        Console.WriteLine("READY");
        if (Console.ReadLine() != "GO")
        {
            return 2;
        }

        int violations = 0;
        long maxSeen = 0;
        using SharedMemoryLease lease = segment.Attachment.Acquire();
        ref long inUse = ref lease.GetAlignedRef<long>(offset);
        ref long total = ref lease.GetAlignedRef<long>(offset + 8);
        for (int i = 0; i < iterations; i++)
        {
            bool async = (i & 1) == 1;
            bool taken = async ? semaphore.WaitAsync(s_long).AsTask().GetAwaiter().GetResult() : semaphore.Wait(s_long);
            if (!taken)
            {
                Console.Error.WriteLine("timed out");
                return 1;
            }

            long now = Interlocked.Increment(ref inUse);
            maxSeen = Math.Max(maxSeen, now);
            if (now > count)
            {
                violations++;
            }

            Interlocked.Increment(ref total);
            Thread.SpinWait(20);
            Interlocked.Decrement(ref inUse);
            semaphore.Release();
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"DONE {violations} {maxSeen}"));
        return 0;
    }

    /// <summary>Args: key semaphore count. Takes one unit, prints TAKEN, and waits for stdin to close (the tests kill it).</summary>
    [Verb("sem-take")]
    public static int SemaphoreTake(string[] args)
    {
        using var segment = ManagedSegment.Open(IpcKey.Parse(args[0], CultureInfo.InvariantCulture), s_long);
        int count = int.Parse(args[2], CultureInfo.InvariantCulture);
        using var semaphore = ShmSemaphore.OpenOrCreate(segment, args[1], count, count);
        if (!semaphore.Wait(s_long))
        {
            return 1;
        }

        Console.WriteLine("TAKEN");
        Console.In.ReadToEnd();
        return 0;
    }

    /// <summary>
    /// Args: key mutex [hold]. Locks the mutex and prints "HELD abandoned(0|1) pid", then follows stdin commands:
    /// "CONSISTENT" (MarkConsistent, prints OK), "RELEASE" (disposes the holder, prints RELEASED), "LOCK" (locks again,
    /// prints HELD …), "EXIT". With "spin" as the third argument it busy-writes the block "data" while it holds,
    /// until killed (the kill tests).
    /// </summary>
    [Verb("mutex-hold")]
    public static int MutexHold(string[] args)
    {
        using var segment = ManagedSegment.Open(IpcKey.Parse(args[0], CultureInfo.InvariantCulture), s_long);
        using var mutex = ShmMutex.OpenOrCreate(segment, args[1]);
        ShmMutexHolder holder = Hold(mutex);
        if (args.Length > 2 && args[2] == "spin")
        {
            long offset = segment.OpenOrCreateBlock("data", 64).Offset;
            while (true)
            {
                // Mid-update at any moment (what "abandoned" warns about), but not burning a whole CPU: several
                // victims run at once on a machine with two.
                long end = MonotonicClock.Now + 200_000;
                while (MonotonicClock.Now < end)
                {
                    Increment(segment, offset);
                }

                Thread.Sleep(1);
            }
        }

        while (Console.ReadLine() is string line)
        {
            switch (line)
            {
                case "CONSISTENT":
                    holder.MarkConsistent();
                    Console.WriteLine("OK");
                    break;
                case "RELEASE":
                    holder.Dispose();
                    Console.WriteLine("RELEASED");
                    break;
                case "LOCK":
                    holder = Hold(mutex);
                    break;
                case "EXIT":
                    return 0;
            }
        }

        return 0;
    }

    /// <summary>
    /// Args: key lanes mode(sync|async). The long-lived waiter of the kill trials: for each stdin line "T lane trial
    /// strategy delayUs" it starts (on a thread per lane) a wait for mutex "lane{lane}": prints "WAITING lane trial",
    /// waits delayUs, locks (strategy), prints "ACQ lane trial abandoned(0|1) monotonicNs", marks it consistent when
    /// abandoned, increments the lane's counter block, releases. "EXIT" ends it.
    /// </summary>
    [Verb("mutex-trial-waiter")]
    public static int TrialWaiter(string[] args)
    {
        using var segment = ManagedSegment.Open(IpcKey.Parse(args[0], CultureInfo.InvariantCulture), s_long);
        int lanes = int.Parse(args[1], CultureInfo.InvariantCulture);
        bool async = args[2] == "async";
        var mutexes = new ShmMutex[lanes];
        var blocks = new long[lanes];
        for (int i = 0; i < lanes; i++)
        {
            mutexes[i] = ShmMutex.OpenOrCreate(segment, "lane" + i.ToString(CultureInfo.InvariantCulture));
            blocks[i] = segment.OpenOrCreateBlock("count" + i.ToString(CultureInfo.InvariantCulture), 64).Offset;
        }

        var output = new object();
        Console.WriteLine("READY");
        var workers = new List<Thread>();
        while (Console.ReadLine() is string line && line != "EXIT")
        {
            string[] p = line.Split(' ');
            int lane = int.Parse(p[1], CultureInfo.InvariantCulture);
            int trial = int.Parse(p[2], CultureInfo.InvariantCulture);
            var strategy = Enum.Parse<ShmWaitStrategy>(p[3]);
            int delayUs = int.Parse(p[4], CultureInfo.InvariantCulture);
            var worker = new Thread(() =>
            {
                ShmMutex mutex = mutexes[lane];
                lock (output)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"WAITING {lane} {trial}"));
                }

                SpinFor(delayUs);
                mutex.WaitStrategy = strategy; // one worker per lane at a time: the test runs a lane's trials in turn
                ShmMutexHolder holder = async ? mutex.LockAsync(s_long).AsTask().GetAwaiter().GetResult() : mutex.Lock(s_long);
                long acquired = MonotonicClock.Now;
                using (holder)
                {
                    lock (output)
                    {
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ACQ {lane} {trial} {(holder.IsAbandoned ? 1 : 0)} {acquired}"));
                    }

                    if (holder.IsAbandoned)
                    {
                        holder.MarkConsistent();
                    }

                    Increment(segment, blocks[lane]);
                }
            })
            { IsBackground = true };
            worker.Start();
            workers.RemoveAll(w => !w.IsAlive);
            workers.Add(worker);
        }

        foreach (Thread w in workers)
        {
            w.Join();
        }

        foreach (ShmMutex m in mutexes)
        {
            m.Dispose();
        }

        return 0;
    }

    /// <summary>
    /// Args: key eventA eventB rounds role(ping|pong) strategy. Two auto-reset events ping-ponging: ping sets A and
    /// waits on B, pong waits on A and sets B; each side increments its count at "pp" (offset 0 ping, 8 pong) when it
    /// is released. Prints READY, waits for GO, then "DONE".
    /// </summary>
    [Verb("event-pingpong")]
    public static int EventPingPong(string[] args)
    {
        using var segment = ManagedSegment.Open(IpcKey.Parse(args[0], CultureInfo.InvariantCulture), s_long);
        using var a = ShmEvent.OpenOrCreate(segment, args[1], EventResetMode.AutoReset);
        using var b = ShmEvent.OpenOrCreate(segment, args[2], EventResetMode.AutoReset);
        int rounds = int.Parse(args[3], CultureInfo.InvariantCulture);
        bool ping = args[4] == "ping";
        a.WaitStrategy = b.WaitStrategy = Enum.Parse<ShmWaitStrategy>(args[5]);
        long offset = segment.OpenOrCreateBlock("pp", 64).Offset + (ping ? 0 : 8);
        Console.WriteLine("READY");
        if (Console.ReadLine() != "GO")
        {
            return 2;
        }

        for (int i = 0; i < rounds; i++)
        {
            if (ping)
            {
                a.Set();
                if (!b.Wait(s_long))
                {
                    Console.Error.WriteLine("ping timed out");
                    return 1;
                }
            }
            else
            {
                if (!a.Wait(s_long))
                {
                    Console.Error.WriteLine("pong timed out");
                    return 1;
                }

                b.Set();
            }

            Increment(segment, offset);
        }

        Console.WriteLine("DONE");
        return 0;
    }

    /// <summary>
    /// Args: key event mode(AutoReset|ManualReset) timeoutMs. Prints "WAITING tid", waits once, prints "WOKE" or
    /// "TIMEOUT", then (stdin "AGAIN") waits again, until "EXIT" or end of input.
    /// </summary>
    [Verb("event-wait")]
    public static int EventWait(string[] args)
    {
        using var segment = ManagedSegment.Open(IpcKey.Parse(args[0], CultureInfo.InvariantCulture), s_long);
        using var shmEvent = ShmEvent.OpenOrCreate(segment, args[1], Enum.Parse<EventResetMode>(args[2]));
        var timeout = TimeSpan.FromMilliseconds(int.Parse(args[3], CultureInfo.InvariantCulture));
        do
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"WAITING {ShmKit.Tests.TestInterop.gettid()}"));
            Console.WriteLine(shmEvent.Wait(timeout) ? "WOKE" : "TIMEOUT");
        }
        while (Console.ReadLine() == "AGAIN");

        return 0;
    }

    private static ShmMutexHolder Hold(ShmMutex mutex)
    {
        ShmMutexHolder holder = mutex.Lock(s_long);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"HELD {(holder.IsAbandoned ? 1 : 0)} {Environment.ProcessId}"));
        return holder;
    }

    private static ShmMutexHolder TryLockLoop(ShmMutex mutex)
    {
        ShmMutexHolder holder;
        while (!mutex.TryLock(out holder))
        {
            Thread.Yield();
        }

        return holder;
    }

    /// <summary>
    /// The protected plain counter: read, a short pause that widens the race window, write. Written only under the
    /// lock; a missed increment (two holders at once) shows as a total below iterations × processes.
    /// </summary>
    private static void Increment(ManagedSegment segment, long offset)
    {
        long value = segment.Attachment.Read<long>(offset);
        Thread.SpinWait(4);
        segment.Attachment.Write(offset, value + 1);
    }

    private static void SpinFor(int microseconds)
    {
        if (microseconds <= 0)
        {
            return;
        }

        long end = MonotonicClock.Now + (microseconds * 1000L);
        while (MonotonicClock.Now < end)
        {
            Thread.SpinWait(10);
        }
    }
}
