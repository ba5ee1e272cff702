using System.Diagnostics;
using System.Globalization;
using ShmKit.Interop;
using ShmKit.Tests.Segments;
using Xunit.Abstractions;

namespace ShmKit.Tests.Futexes;

/// <summary>
/// The liveness monitor against real processes killed with SIGKILL: pidfds in this pid namespace, SEM_UNDO tokens in
/// another, polling as the fallback. Latencies are printed, never asserted.
/// </summary>
public unsafe class LivenessMonitorTests(ITestOutputHelper output) : IDisposable
{
    public void Dispose()
    {
        GC.SuppressFinalize(this);
        LivenessMonitor.IdleLinger = TimeSpan.FromSeconds(1);
        LivenessMonitor.ForcePolling = false;
    }

    private static (ChildProcess Child, ProcessIdentity Identity) StartSleeper()
    {
        var child = ChildProcess.Start("sleep", ["30"]);
        Assert.True(ProcessIdentity.TryGet(child.Id, out ProcessIdentity identity));
        return (child, identity);
    }

    /// <summary>Blocks a thread in a futex wait with a watch armed, kills the process, returns the result and the latency.</summary>
    private (FutexWaitResult Result, TimeSpan Latency) KillWhileWaiting(ChildProcess child, ProcessIdentity identity, LivenessToken? token, LivenessWatchMethod expected, long syscall)
    {
        using var shm = new FutexSegment();
        int* word = shm.Word(0);
        FutexWaitResult result = default;
        long returnedAt = 0;
        LivenessWatchMethod method = default;
        var armed = new ManualResetEventSlim();
        var (thread, tid) = FutexTestSupport.StartThread(() =>
        {
            using LivenessWatch watch = LivenessMonitor.Watch(identity, token, FutexInterrupt.Current);
            method = watch.Method;
            armed.Set();
            result = Futex.Wait(word, 0, MonotonicClock.DeadlineAfter(TimeSpan.FromSeconds(20)));
            returnedAt = Stopwatch.GetTimestamp();
        });
        armed.Wait();
        Assert.Equal(expected, method);
        FutexTestSupport.WaitUntil(() => FutexTestSupport.IsBlockedIn(Environment.ProcessId, tid, syscall), "the waiter to block");
        long killedAt = Stopwatch.GetTimestamp();
        Assert.Equal(0, ProcessCalls.kill(child.Id, ProcessCalls.SIGKILL));
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "the waiter was not told of the death");
        Assert.Equal(0, Volatile.Read(ref *word)); // the shared word was not touched
        return (result, Stopwatch.GetElapsedTime(killedAt, returnedAt));
    }

    [Fact]
    public void SIGKILL_Of_A_Watched_Process_Interrupts_A_Blocked_Waiter_Through_Its_Pidfd()
    {
        var (child, identity) = StartSleeper();
        using (child)
        {
            var (result, latency) = KillWhileWaiting(child, identity, null, LivenessWatchMethod.Pidfd, Syscalls.SYS_futex_waitv);
            Assert.Equal(FutexWaitResult.Interrupted, result);
            output.WriteLine($"pidfd: death seen by the waiter {latency.TotalMicroseconds:0} µs after SIGKILL");
        }
    }

    [Fact]
    public void SIGKILL_Of_A_Watched_Process_Calls_The_Callback()
    {
        var (child, identity) = StartSleeper();
        using (child)
        {
            using var fired = new ManualResetEventSlim();
            using LivenessWatch watch = LivenessMonitor.Watch(identity, null, static s => ((ManualResetEventSlim)s!).Set(), fired);
            Assert.Equal(LivenessWatchMethod.Pidfd, watch.Method);
            Assert.False(fired.IsSet);
            child.Kill();
            Assert.True(fired.Wait(TimeSpan.FromSeconds(30)));
            Assert.True(watch.HasFired);

            // The process is known dead now: a new watch fires before Watch returns.
            using var again = new ManualResetEventSlim();
            using LivenessWatch late = LivenessMonitor.Watch(identity, null, static s => ((ManualResetEventSlim)s!).Set(), again);
            Assert.Equal(LivenessWatchMethod.AlreadyDead, late.Method);
            Assert.True(again.IsSet);
        }
    }

    [Fact]
    public void The_Polling_Fallback_Sees_The_Death_Too()
    {
        LivenessMonitor.ForcePolling = true;
        var (child, identity) = StartSleeper();
        using (child)
        {
            var (result, latency) = KillWhileWaiting(child, identity, null, LivenessWatchMethod.Polling, Syscalls.SYS_futex_waitv);
            Assert.Equal(FutexWaitResult.Interrupted, result);
            output.WriteLine($"polling: death seen {latency.TotalMilliseconds:0.0} ms after SIGKILL");
        }
    }

    [Fact]
    public void Disposed_Watches_Leave_No_Thread_And_No_Descriptor()
    {
        LivenessMonitor.IdleLinger = TimeSpan.Zero;
        FutexTestSupport.WaitUntil(() => LivenessMonitor.ThreadCount == 0, "earlier monitor threads to end");
        int pidfdsBefore = FutexTestSupport.CountPidfds();
        var (a, identityA) = StartSleeper();
        var (b, identityB) = StartSleeper();
        using (a)
        using (b)
        {
            var watches = new List<LivenessWatch>();
            for (int i = 0; i < 5; i++)
            {
                watches.Add(LivenessMonitor.Watch(identityA, null, static _ => { }, null));
                watches.Add(LivenessMonitor.Watch(identityB, null, static _ => { }, null));
            }

            Assert.Equal(2, LivenessMonitor.EntryCount); // refcounted: one entry and one pidfd per process
            Assert.Equal(pidfdsBefore + 2, FutexTestSupport.CountPidfds());
            Assert.Equal(1, LivenessMonitor.ThreadCount);
            foreach (LivenessWatch w in watches)
            {
                w.Dispose();
                w.Dispose(); // twice is harmless
            }

            Assert.Equal(0, LivenessMonitor.EntryCount);
            Assert.Equal(pidfdsBefore, FutexTestSupport.CountPidfds());
            FutexTestSupport.WaitUntil(() => LivenessMonitor.ThreadCount == 0, "the monitor thread to end");
        }
    }

    [Fact]
    public void Watching_This_Process_Or_An_Unknown_Foreign_One_Never_Fires()
    {
        using LivenessWatch self = LivenessMonitor.Watch(ProcessIdentity.Current, null, static _ => throw new InvalidOperationException(), null);
        Assert.Equal(LivenessWatchMethod.None, self.Method);
        var foreign = ProcessIdentity.Current with { PidNamespaceInode = 1 };
        using LivenessWatch noToken = LivenessMonitor.Watch(foreign, null, static _ => throw new InvalidOperationException(), null);
        Assert.Equal(LivenessWatchMethod.None, noToken.Method);
    }

    [EnvironmentFact(Needs.Root | Needs.UtilLinux)]
    public void A_Process_In_Another_Pid_Namespace_Is_Watched_Through_Its_SEM_UNDO_Token()
    {
        LivenessMonitor.IdleLinger = TimeSpan.Zero;
        var tokens = SemaphoreSet.CreatePrivate([0, 0]);
        try
        {
            using var child = ChildProcess.Start("unshare", ["--pid", "--fork", "--kill-child", ChildProcess.DotnetHost, ChildProcess.TestChildDll, "liveness-token", tokens.Id.ToString(CultureInfo.InvariantCulture), "1"]);
            string[] p = child.WaitForLine("IDENTITY").Split(' ');
            var identity = new ProcessIdentity(int.Parse(p[1], CultureInfo.InvariantCulture), ulong.Parse(p[2], CultureInfo.InvariantCulture), ulong.Parse(p[3], CultureInfo.InvariantCulture));
            child.WaitForLine("READY");
            Assert.False(identity.IsInCurrentPidNamespace);
            Assert.Equal(1, tokens.GetValue(1));

            var (result, latency) = KillWhileWaiting(child, identity, new LivenessToken(tokens.Id, 1), LivenessWatchMethod.SemaphoreToken, Syscalls.SYS_futex_waitv);
            Assert.Equal(FutexWaitResult.Interrupted, result);
            Assert.Equal(0, tokens.GetValue(1)); // the kernel undid the dead participant's +1
            output.WriteLine($"SEM_UNDO token: death seen {latency.TotalMicroseconds:0} µs after SIGKILL");
            FutexTestSupport.WaitUntil(() => LivenessMonitor.ThreadCount == 0, "the token thread to end");
        }
        finally
        {
            tokens.Remove();
        }
    }

    [Fact]
    public void A_Token_Watch_That_Is_Disposed_Ends_Its_Thread()
    {
        LivenessMonitor.IdleLinger = TimeSpan.Zero;
        FutexTestSupport.WaitUntil(() => LivenessMonitor.ThreadCount == 0, "earlier monitor threads to end");
        var tokens = SemaphoreSet.CreatePrivate([1]); // a live participant's token: held at 1
        try
        {
            var foreign = new ProcessIdentity(12345, 1, ProcessIdentity.Current.PidNamespaceInode + 1);
            var watch = LivenessMonitor.Watch(foreign, new LivenessToken(tokens.Id, 0), static _ => { }, null);
            Assert.Equal(LivenessWatchMethod.SemaphoreToken, watch.Method);
            FutexTestSupport.WaitUntil(() => tokens.GetWaitingForZeroCount(0) == 1, "the token thread to wait for zero");
            Assert.Equal(1, LivenessMonitor.ThreadCount);
            watch.Dispose();
            Assert.False(watch.HasFired);
            FutexTestSupport.WaitUntil(() => LivenessMonitor.ThreadCount == 0, "the token thread to end");
            Assert.Equal(0, tokens.GetWaitingForZeroCount(0));
        }
        finally
        {
            tokens.Remove();
        }
    }
}
