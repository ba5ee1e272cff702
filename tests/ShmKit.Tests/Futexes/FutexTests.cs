using System.Diagnostics;
using System.Globalization;
using ShmKit.Interop;
using Xunit.Abstractions;

namespace ShmKit.Tests.Futexes;

/// <summary>
/// Futex waits and wakes on words in a real System V segment, across separately started processes. Shared words:
/// the parent and the children write them only with Interlocked operations before waking, and read them with
/// Volatile.Read; the kernel's compare in FUTEX_WAIT orders a waiter's check against the waker's store.
/// </summary>
public unsafe class FutexTests(ITestOutputHelper output)
{
    [Fact]
    public void A_Wait_In_Another_Process_Is_Woken_By_A_Wake_Here()
    {
        using var shm = new FutexSegment();
        int* word = shm.Word(64);
        using var child = ChildProcess.StartChild("futex-wait", shm.Key.ToString(), "64", "0", "-1");
        int tid = int.Parse(child.WaitForLine("READY").Split(' ')[1], CultureInfo.InvariantCulture);
        FutexTestSupport.WaitUntil(() => FutexTestSupport.IsBlockedIn(child.Id, tid, Syscalls.SYS_futex), "the child to block in futex");

        Interlocked.Exchange(ref *word, 7);
        Assert.Equal(1, Futex.Wake(word, 1)); // exactly the child was asleep on this word, through its own mapping
        Assert.Contains("RESULT Woken VALUE 7", child.WaitForLine("RESULT"), StringComparison.Ordinal);
        Assert.Equal(0, child.WaitForExit(FutexTestSupport.Generous));
    }

    [Fact]
    public void A_Wait_Here_Is_Woken_By_A_Wake_In_Another_Process()
    {
        using var shm = new FutexSegment();
        int* word = shm.Word(128);
        FutexWaitResult result = default;
        var (thread, tid) = FutexTestSupport.StartThread(() => result = Futex.Wait(word, 0, MonotonicClock.Infinite));
        FutexTestSupport.WaitUntil(() => FutexTestSupport.IsBlockedIn(Environment.ProcessId, tid, Syscalls.SYS_futex), "the waiter to block");

        var (code, stdout, stderr) = ChildProcess.RunChild("futex-wake", shm.Key.ToString(), "128", "1", "4", "3");
        Assert.True(code == 0, stderr);
        Assert.Contains("WOKEN 1", stdout, StringComparison.Ordinal);
        Assert.True(thread.Join(FutexTestSupport.Generous));
        Assert.Equal(FutexWaitResult.Woken, result);
        Assert.Equal(3, Volatile.Read(ref *word));
    }

    [Fact]
    public void A_Wait_On_A_Value_That_Is_Not_There_Returns_ValueChanged_At_Once()
    {
        using var shm = new FutexSegment();
        int* word = shm.Word(0);
        *word = 5;
        Assert.Equal(FutexWaitResult.ValueChanged, Futex.Wait(word, 4, MonotonicClock.Infinite));
        using var cts = new CancellationTokenSource();
        Assert.Equal(FutexWaitResult.ValueChanged, Futex.Wait(word, 4, MonotonicClock.Infinite, cts.Token));

        var (code, stdout, stderr) = ChildProcess.RunChild("futex-wait", shm.Key.ToString(), "0", "4", "-1");
        Assert.True(code == 0, stderr);
        Assert.Contains("RESULT ValueChanged VALUE 5", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_Deadline_Times_Out_And_Never_Early()
    {
        using var shm = new FutexSegment();
        int* word = shm.Word(0);
        long deadline = MonotonicClock.DeadlineAfter(TimeSpan.FromMilliseconds(30));
        Assert.Equal(FutexWaitResult.TimedOut, Futex.Wait(word, 0, deadline));
        Assert.True(MonotonicClock.Now >= deadline, "the wait returned before its deadline");

        // A deadline in the past times out at once; so does a zero timeout.
        Assert.Equal(FutexWaitResult.TimedOut, Futex.Wait(word, 0, MonotonicClock.Now - 1));
        Assert.Equal(FutexWaitResult.TimedOut, Futex.Wait(word, 0, MonotonicClock.DeadlineAfter(TimeSpan.Zero)));

        using var cts = new CancellationTokenSource();
        deadline = MonotonicClock.DeadlineAfter(TimeSpan.FromMilliseconds(30));
        Assert.Equal(FutexWaitResult.TimedOut, Futex.Wait(word, 0, deadline, cts.Token));
        Assert.True(MonotonicClock.Now >= deadline, "the cancellable wait returned before its deadline");

        var (code, stdout, stderr) = ChildProcess.RunChild("futex-wait", shm.Key.ToString(), "0", "0", "20");
        Assert.True(code == 0, stderr);
        Assert.Contains("RESULT TimedOut VALUE 0", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Signals_To_The_Waiting_Thread_Do_Not_Stretch_The_Deadline(bool cancellable)
    {
        // Signals keep arriving until the wait returns. A wait that restarted a relative timeout after each EINTR
        // would never end while they arrive; with an absolute deadline it ends at the deadline, signals or not.
        using var listener = new ProcessSignalListener(NotificationSignal.User2);
        using var shm = new FutexSegment();
        int* word = shm.Word(0);
        using var cts = new CancellationTokenSource();
        FutexWaitResult result = default;
        long deadline = 0;
        int returned = 0;
        var (thread, tid) = FutexTestSupport.StartThread(() =>
        {
            deadline = MonotonicClock.DeadlineAfter(TimeSpan.FromMilliseconds(300));
            result = cancellable ? Futex.Wait(word, 0, deadline, cts.Token) : Futex.Wait(word, 0, deadline);
            Volatile.Write(ref returned, 1);
        });

        long syscall = cancellable ? Syscalls.SYS_futex_waitv : Syscalls.SYS_futex;
        FutexTestSupport.WaitUntil(() => Volatile.Read(ref returned) == 1 || FutexTestSupport.IsBlockedIn(Environment.ProcessId, tid, syscall), "the waiter to block");
        int sent = 0;
        var stopSignalling = Stopwatch.StartNew();
        while (Volatile.Read(ref returned) == 0 && stopSignalling.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (TestInterop.tgkill(Environment.ProcessId, tid, (int)NotificationSignal.User2) == 0)
            {
                sent++;
            }

            Thread.Sleep(10);
        }

        Assert.True(Volatile.Read(ref returned) == 1, $"the wait did not end while {sent} signals kept arriving: its deadline was stretched");
        Assert.True(thread.Join(FutexTestSupport.Generous));
        Assert.Equal(FutexWaitResult.TimedOut, result);
        Assert.True(MonotonicClock.Now >= deadline);
        Assert.True(sent >= 2, $"only {sent} signals were sent during the wait");
        FutexTestSupport.WaitUntil(() => listener.ReceivedCount >= 2, "the signals to be delivered");
        output.WriteLine($"{sent} signals sent, {listener.ReceivedCount} delivered during a 300 ms wait");
    }

    [Fact]
    public void Cancellation_Wakes_A_Blocked_Waiter_Through_Futex_Waitv_And_Leaves_The_Word_Untouched()
    {
        using var shm = new FutexSegment();
        int* word = shm.Word(256);
        *word = 42;
        using var cts = new CancellationTokenSource();
        FutexWaitResult result = default;
        var (thread, tid) = FutexTestSupport.StartThread(() => result = Futex.Wait(word, 42, MonotonicClock.Infinite, cts.Token));
        FutexTestSupport.WaitUntil(() => FutexTestSupport.IsBlockedIn(Environment.ProcessId, tid, Syscalls.SYS_futex_waitv), "the waiter to block in futex_waitv");

        var stopwatch = Stopwatch.StartNew();
        cts.Cancel();
        Assert.True(thread.Join(FutexTestSupport.Generous));
        output.WriteLine($"cancelled waiter returned after {stopwatch.Elapsed.TotalMicroseconds:0} µs");
        Assert.Equal(FutexWaitResult.Cancelled, result);
        Assert.Equal(42, Volatile.Read(ref *word));
        Assert.Equal(0, Futex.WakeAll(word)); // nobody is left asleep on the shared word
    }

    [Fact]
    public void Many_Cancellations_Leave_No_Waiter_Behind()
    {
        using var shm = new FutexSegment();
        int* word = shm.Word(512);
        var random = new Random(8);
        int cancelled = 0;
        for (int i = 0; i < 200; i++)
        {
            using var cts = new CancellationTokenSource();
            FutexWaitResult result = default;
            var (thread, _) = FutexTestSupport.StartThread(() => result = Futex.Wait(word, 0, MonotonicClock.Infinite, cts.Token));

            // Cancel at a random moment: before the registration, between it and the sleep, or during the sleep.
            Thread.SpinWait(random.Next(0, 20_000));
            cts.Cancel();
            Assert.True(thread.Join(FutexTestSupport.Generous), $"iteration {i}: the waiter did not return");
            Assert.Equal(FutexWaitResult.Cancelled, result);
            cancelled++;
        }

        Assert.Equal(200, cancelled);
        Assert.Equal(0, Volatile.Read(ref *word));
        Assert.Equal(0, Futex.WakeAll(word));
    }

    [Fact]
    public void The_Slice_Fallback_Still_Cancels_And_Wakes()
    {
        using var shm = new FutexSegment();
        int* word = shm.Word(0);
        Futex.ForceWaitvFallback = true;
        try
        {
            using var cts = new CancellationTokenSource();
            FutexWaitResult result = default;
            var (thread, tid) = FutexTestSupport.StartThread(() => result = Futex.Wait(word, 0, MonotonicClock.Infinite, cts.Token));
            FutexTestSupport.WaitUntil(() => FutexTestSupport.IsBlockedIn(Environment.ProcessId, tid, Syscalls.SYS_futex), "the waiter to block in a slice");
            cts.Cancel();
            Assert.True(thread.Join(FutexTestSupport.Generous));
            Assert.Equal(FutexWaitResult.Cancelled, result);

            using var cts2 = new CancellationTokenSource();
            (thread, tid) = FutexTestSupport.StartThread(() => result = Futex.Wait(word, 0, MonotonicClock.Infinite, cts2.Token));
            FutexTestSupport.WaitUntil(() => FutexTestSupport.IsBlockedIn(Environment.ProcessId, tid, Syscalls.SYS_futex), "the waiter to block in a slice");
            Interlocked.Exchange(ref *word, 1);
            Futex.WakeAll(word);
            Assert.True(thread.Join(FutexTestSupport.Generous));
            Assert.Equal(FutexWaitResult.Woken, result);
        }
        finally
        {
            Futex.ForceWaitvFallback = false;
        }
    }

    [Fact]
    public void An_Idle_Blocked_Waiter_Makes_No_Wake_Ups()
    {
        // Two waiters sleep for about a second, one plain (FUTEX_WAIT_BITSET), one cancellable (futex_waitv). Each
        // voluntary context switch is one sleep: a waiter that polls would add one per wake-up.
        using var shm = new FutexSegment();
        int* plainWord = shm.Word(0);
        int* cancellableWord = shm.Word(64);
        using var cts = new CancellationTokenSource();
        var (plain, plainTid) = FutexTestSupport.StartThread(() => Futex.Wait(plainWord, 0, MonotonicClock.Infinite));
        var (cancellable, cancellableTid) = FutexTestSupport.StartThread(() => Futex.Wait(cancellableWord, 0, MonotonicClock.Infinite, cts.Token));
        FutexTestSupport.WaitUntil(() => FutexTestSupport.IsBlockedIn(Environment.ProcessId, plainTid, Syscalls.SYS_futex), "the plain waiter to block");
        FutexTestSupport.WaitUntil(() => FutexTestSupport.IsBlockedIn(Environment.ProcessId, cancellableTid, Syscalls.SYS_futex_waitv), "the cancellable waiter to block");

        long plainBefore = FutexTestSupport.VoluntarySwitches(plainTid);
        long cancellableBefore = FutexTestSupport.VoluntarySwitches(cancellableTid);
        Thread.Sleep(1000);
        long plainWakeUps = FutexTestSupport.VoluntarySwitches(plainTid) - plainBefore;
        long cancellableWakeUps = FutexTestSupport.VoluntarySwitches(cancellableTid) - cancellableBefore;
        output.WriteLine($"wake-ups in ~1 s: plain {plainWakeUps}, cancellable {cancellableWakeUps}");

        Interlocked.Exchange(ref *plainWord, 1);
        Futex.WakeAll(plainWord);
        cts.Cancel();
        Assert.True(plain.Join(FutexTestSupport.Generous));
        Assert.True(cancellable.Join(FutexTestSupport.Generous));
        Assert.True(plainWakeUps <= 1, $"the plain waiter woke {plainWakeUps} times while idle");
        Assert.True(cancellableWakeUps <= 1, $"the cancellable waiter woke {cancellableWakeUps} times while idle");
    }

    [Fact]
    public void Waits_That_Do_Not_Sleep_And_Wakes_Allocate_Nothing()
    {
        using var shm = new FutexSegment();
        int* word = shm.Word(0);
        *word = 1;
        Futex.Wait(word, 0, MonotonicClock.Infinite);
        Futex.Wake(word, 1);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            Futex.Wait(word, 0, MonotonicClock.Infinite);
            Futex.Wait(word, 0, MonotonicClock.Now - 1, CancellationToken.None);
            Futex.Wake(word, 1);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Misaligned_Words_Are_A_Clear_Error_And_A_Wake_Of_An_Unmapped_Word_Is_Ignored()
    {
        using var shm = new FutexSegment();
        var e = Assert.Throws<ArgumentException>(() => Futex.Wait((int*)((byte*)shm.Word(0) + 1), 0, MonotonicClock.Now + 1_000_000));
        Assert.Contains("4-byte aligned", e.Message, StringComparison.Ordinal);

        var segment = SharedMemorySegment.CreatePrivate(4096);
        try
        {
            var attachment = segment.Attach();
            int* gone = (int*)attachment.Address;
            attachment.Dispose();
            Assert.Equal(0, Futex.Wake(gone, 1)); // EFAULT after detach: the waker may already have detached
        }
        finally
        {
            segment.Remove();
        }
    }

    [Fact]
    public void The_Monotonic_Clock_Is_The_Futex_Clock()
    {
        Assert.Equal(1_000_000_000, Stopwatch.Frequency);
        Sem.timespec ts;
        long before = Stopwatch.GetTimestamp();
        Assert.Equal(0, TimeCalls.clock_gettime(FutexCalls.CLOCK_MONOTONIC, &ts));
        long after = Stopwatch.GetTimestamp();
        long kernel = (ts.tv_sec * 1_000_000_000) + ts.tv_nsec;
        Assert.InRange(kernel, before, after);

        Sem.timespec converted;
        MonotonicClock.ToTimespec(kernel, &converted);
        Assert.Equal(ts.tv_sec, converted.tv_sec);
        Assert.Equal(ts.tv_nsec, converted.tv_nsec);
        Assert.Equal(MonotonicClock.Infinite, MonotonicClock.DeadlineAfter(null));
        Assert.Equal(MonotonicClock.Infinite, MonotonicClock.DeadlineAfter(Timeout.InfiniteTimeSpan));
        Assert.Equal(MonotonicClock.Infinite, MonotonicClock.DeadlineAfter(TimeSpan.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => MonotonicClock.DeadlineAfter(TimeSpan.FromMilliseconds(-2)));
    }
}
