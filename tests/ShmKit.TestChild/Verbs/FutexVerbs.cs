using System.Globalization;

namespace ShmKit.TestChild;

/// <summary>
/// The other process of the futex, process identity and liveness tests (tests/ShmKit.Tests/Futexes). Shared words:
/// each verb names the 32-bit words it waits on or writes; the parent and this process touch them only with
/// Volatile/Interlocked operations and futex calls, and the kernel's futex compare orders the waiter's check against
/// the waker's store (the waker writes first, then wakes).
/// </summary>
internal static unsafe class FutexVerbs
{
    /// <summary>
    /// Args: key offset expected timeoutMs. Attaches the segment, prints "READY tid", then Futex.Wait on the word at
    /// offset while it holds expected (timeoutMs -1: no deadline). Prints "RESULT r VALUE v" and exits 0.
    /// </summary>
    [Verb("futex-wait")]
    public static int Wait(string[] args)
    {
        var key = IpcKey.Parse(args[0], CultureInfo.InvariantCulture);
        long offset = long.Parse(args[1], CultureInfo.InvariantCulture);
        int expected = int.Parse(args[2], CultureInfo.InvariantCulture);
        int timeoutMs = int.Parse(args[3], CultureInfo.InvariantCulture);
        using var attachment = SharedMemorySegment.Open(key).Attach();
        int* word = (int*)(attachment.Address + (nint)offset);
        long deadline = MonotonicClock.DeadlineAfter(timeoutMs < 0 ? null : TimeSpan.FromMilliseconds(timeoutMs));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"READY {ShmKit.Tests.TestInterop.gettid()}"));
        Console.Out.Flush();
        FutexWaitResult result = Futex.Wait(word, expected, deadline);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT {result} VALUE {Volatile.Read(ref *word)}"));
        return 0;
    }

    /// <summary>
    /// Args: key offset count stride value. Attaches the segment and, for each of count words starting at offset and
    /// stride bytes apart, stores value (Interlocked.Exchange) and then wakes all its waiters. Prints "WOKEN n", the
    /// total the kernel reported.
    /// </summary>
    [Verb("futex-wake")]
    public static int Wake(string[] args)
    {
        var key = IpcKey.Parse(args[0], CultureInfo.InvariantCulture);
        long offset = long.Parse(args[1], CultureInfo.InvariantCulture);
        int count = int.Parse(args[2], CultureInfo.InvariantCulture);
        int stride = int.Parse(args[3], CultureInfo.InvariantCulture);
        int value = int.Parse(args[4], CultureInfo.InvariantCulture);
        using var attachment = SharedMemorySegment.Open(key).Attach();
        int woken = 0;
        for (int i = 0; i < count; i++)
        {
            int* word = (int*)(attachment.Address + (nint)(offset + ((long)i * stride)));
            Interlocked.Exchange(ref *word, value);
            woken += Futex.WakeAll(word);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"WOKEN {woken}"));
        return 0;
    }

    /// <summary>Prints "IDENTITY pid startTime pidNamespaceInode procMatches" for this process, then "READY", then waits for stdin to close.</summary>
    [Verb("identity")]
    public static int Identity(string[] args)
    {
        PrintIdentity();
        Console.WriteLine("READY");
        Console.Out.Flush();
        Console.In.ReadToEnd();
        return 0;
    }

    /// <summary>
    /// Args: semid index. Takes the participant's liveness token — semop(+1, SEM_UNDO) on semaphore index of the
    /// set — prints its identity and "READY", then blocks until killed (or stdin closes, when it gives the token
    /// back). The kernel undoes the +1 when this process dies, in whatever pid namespace it runs.
    /// </summary>
    [Verb("liveness-token")]
    public static int LivenessTokenHolder(string[] args)
    {
        var set = SemaphoreSet.OpenById(int.Parse(args[0], CultureInfo.InvariantCulture));
        short index = short.Parse(args[1], CultureInfo.InvariantCulture);
        set.Release(index, 1, undo: true);
        PrintIdentity();
        Console.WriteLine("READY");
        Console.Out.Flush();
        Console.In.ReadToEnd();
        return 0;
    }

    private static void PrintIdentity()
    {
        ProcessIdentity me = ProcessIdentity.Current;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"IDENTITY {me.ProcessId} {me.StartTime} {me.PidNamespaceInode} {(ProcessIdentity.ProcMatchesPidNamespace ? 1 : 0)}"));
    }
}
