using System.Globalization;
using System.Runtime.CompilerServices;

namespace ShmKit.TestChild;

/// <summary>
/// The attachment-lifetime scenarios of tests/ShmKit.Tests/Segments/LeaseTests: things that killed the process before
/// leases existed (SIGSEGV, or a fatal AccessViolationException and SIGABRT), run here so that a regression fails one
/// test with an exit code instead of taking down the test host.
/// </summary>
internal static class LifetimeVerbs
{
    /// <summary>
    /// Args: key. Opens the segment (nobody else attached) and leaks leases in two ways, then collects garbage and
    /// runs finalizers, and writes through the spans. Prints "NATTCH-INLINE n" after the issue's snippet
    /// (<c>segment.Attach().Acquire().Span</c>, GC, write), "NATTCH n" and "COLLECTED yes|no" after the second case
    /// (attachment and lease made in another method, so nothing on this stack keeps them, plus a forgotten attachment
    /// without a lease as a control that the finalizers ran), "READ a b" with the two bytes written as seen through a
    /// fresh attachment, and "SURVIVED". Shared bytes 1 and 2: written by this process only, read back by it; the
    /// parent reads nothing until this process exited.
    /// </summary>
    [Verb("shm-chained-lease")]
    public static int ChainedLease(string[] args)
    {
        var segment = SharedMemorySegment.Open(IpcKey.Parse(args[0], CultureInfo.InvariantCulture));

        // 1. The snippet from the issue, as written. (In a Debug build the temporaries may stay alive in this frame.)
        Span<byte> s = segment.Attach().Acquire().Span;
        CollectAll();
        s[1] = 8;
        Print($"NATTCH-INLINE {segment.Stat().AttachCount}");

        // 2. Certainly unreachable: made in a non-inlined method; the control attachment has no lease.
        Span<byte> t = LeakLease(segment, out var attachment);
        ForgetAttachment(segment);
        long before = segment.Stat().AttachCount;
        CollectAll();
        t[2] = 9;
        Print($"NATTCH-BEFORE-GC {before}");
        Print($"NATTCH {segment.Stat().AttachCount}");
        Print($"COLLECTED {(attachment.IsAlive ? "no" : "yes")}");

        using (var check = segment.AttachReadOnly())
        {
            Print($"READ {check.Read<byte>(1)} {check.Read<byte>(2)}");
        }

        Print("SURVIVED");
        return 0;
    }

    /// <summary>
    /// Args: key rounds. Each round attaches the segment (read-write in even rounds, read-only in odd ones), lets
    /// three reader threads hammer it with every copying call and with leases, and disposes it from this thread after
    /// a varying delay. Every call must succeed or throw ObjectDisposedException; after each round nattch must be 0
    /// again (every reference given back). Prints "OK n" (calls that completed), "DISPOSED n" (calls refused),
    /// "ROUNDS n" and "SURVIVED"; on any other outcome prints "UNEXPECTED ..." and exits 1. Shared bytes: only this
    /// process touches the segment, and no value read is checked (the race is about the mapping, not the data).
    /// </summary>
    [Verb("shm-dispose-race")]
    public static int DisposeRace(string[] args)
    {
        var segment = SharedMemorySegment.Open(IpcKey.Parse(args[0], CultureInfo.InvariantCulture));
        int rounds = int.Parse(args[1], CultureInfo.InvariantCulture);
        const int Readers = 3;
        const int MaxCallsPerRound = 2_000_000; // bounded: a round whose Dispose never shows is a failure, not a hang
        var race = new RaceState();
        using var start = new Barrier(Readers + 1);
        using var end = new Barrier(Readers + 1);
        var threads = Enumerable.Range(0, Readers).Select(t => new Thread(() =>
        {
            byte[] buffer = new byte[64 * 1024];
            for (int round = 0; round < rounds; round++)
            {
                start.SignalAndWait();
                int calls = 0;
                while (race.Failure is null && calls < MaxCallsPerRound)
                {
                    try
                    {
                        if (race.ReadWrite is { } rw)
                        {
                            ReadWriteCall(rw, (calls + t) % 6, buffer, calls);
                        }
                        else
                        {
                            ReadOnlyCall(race.ReadOnly!, (calls + t) % 3, buffer);
                        }

                        Interlocked.Increment(ref race.Ok);
                    }
                    catch (ObjectDisposedException)
                    {
                        Interlocked.Increment(ref race.Disposed);
                        break;
                    }
                    catch (Exception e)
                    {
                        race.Fail($"round {round}: {e.GetType().Name}: {e.Message}");
                        break;
                    }

                    calls++;
                }

                if (calls == MaxCallsPerRound)
                {
                    race.Fail($"round {round}: {MaxCallsPerRound} calls succeeded after Dispose");
                }

                end.SignalAndWait();
            }
        })).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        var random = new Random(12345);
        for (int round = 0; round < rounds; round++)
        {
            // After a failure the remaining rounds only pass the barriers, so every thread ends.
            bool work = race.Failure is null;
            IDisposable? attachment = null;
            if (work && round % 2 == 0)
            {
                race.ReadOnly = null;
                attachment = race.ReadWrite = segment.Attach();
            }
            else if (work)
            {
                race.ReadWrite = null;
                attachment = race.ReadOnly = segment.AttachReadOnly();
            }

            start.SignalAndWait();
            if (attachment is not null)
            {
                Thread.SpinWait(random.Next(0, 20_000)); // sometimes before the readers start, mostly in the middle of a copy
                attachment.Dispose();
            }

            end.SignalAndWait();
            long nattch = work ? segment.Stat().AttachCount : 0;
            if (nattch != 0)
            {
                race.Fail($"round {round}: nattch {nattch} after every holder finished (a reference was not given back)");
            }
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        Print($"OK {race.Ok}");
        Print($"DISPOSED {race.Disposed}");
        Print($"ROUNDS {rounds}");
        if (race.Failure is { } failure)
        {
            Print("UNEXPECTED " + failure);
            return 1;
        }

        Print("SURVIVED");
        return 0;
    }

    private static void ReadWriteCall(SharedMemoryAttachment a, int op, byte[] buffer, int i)
    {
        switch (op)
        {
            case 0:
                a.ReadBytes(0, buffer);
                break;
            case 1:
                _ = a.Read<long>(8 * (i % 512));
                break;
            case 2:
                a.Write<long>(8 * (i % 512), i);
                break;
            case 3:
                a.Clear(4096, 32 * 1024);
                break;
            case 4:
                a.WriteBytes(16 * 1024, buffer);
                break;
            default:
                using (var lease = a.Acquire())
                {
                    lease.Span.Fill((byte)i);
                    lease.GetAlignedRef<long>(64)++;
                }

                break;
        }
    }

    private static void ReadOnlyCall(ReadOnlySharedMemoryAttachment a, int op, byte[] buffer)
    {
        switch (op)
        {
            case 0:
                a.ReadBytes(0, buffer);
                break;
            case 1:
                _ = a.Read<long>(64);
                break;
            default:
                using (var lease = a.Acquire())
                {
                    _ = lease.Span.IndexOfAnyExcept((byte)0);
                }

                break;
        }
    }

    /// <summary>
    /// Leaks a lease on purpose (never disposed) and returns a span over its mapping. The span is rebuilt from the
    /// lease's Address because the compiler, rightly, does not let <c>lease.Span</c> escape the lease's scope.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe Span<byte> LeakLease(SharedMemorySegment segment, out WeakReference attachment)
    {
        var a = segment.Attach();
        attachment = new WeakReference(a);
        var lease = a.Acquire();
        return new Span<byte>((void*)lease.Address, checked((int)lease.Length));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ForgetAttachment(SharedMemorySegment segment) => segment.Attach().Write<byte>(0, 1);

    private static void CollectAll()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    private static void Print(FormattableString line)
    {
        Console.WriteLine(line.ToString(CultureInfo.InvariantCulture));
        Console.Out.Flush();
    }

    private static void Print(string line)
    {
        Console.WriteLine(line);
        Console.Out.Flush();
    }

    /// <summary>State shared by the threads of one process (not shared memory).</summary>
    private sealed class RaceState
    {
        // Written by the disposing thread before the start barrier, read by the readers after it (the barrier orders it).
        public volatile SharedMemoryAttachment? ReadWrite;
        public volatile ReadOnlySharedMemoryAttachment? ReadOnly;

        // Counters, Interlocked.
        public long Ok;
        public long Disposed;

        private string? _failure;

        public string? Failure => Volatile.Read(ref _failure);

        public void Fail(string message)
        {
            Interlocked.CompareExchange(ref _failure, message, null);
        }
    }
}
