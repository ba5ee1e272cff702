using System.Globalization;
using ShmKit.Interop;
using Xunit.Abstractions;
using static ShmKit.Tests.Synchronization.SyncTestSupport;

namespace ShmKit.Tests.Synchronization;

/// <summary>
/// ShmMutex across real processes: exact counting under contention, a killed holder recovered and reported, an owner
/// in another pid namespace, not-recoverable across processes, an idle waiter's wake-ups, async waiters that block no
/// pool thread. Latencies are printed, never asserted.
/// </summary>
public class ShmMutexProcessTests(ITestOutputHelper output)
{
    [Fact]
    public void Four_Processes_Increment_A_Plain_Counter_Under_The_Mutex_Exactly()
    {
        const int iterations = 4000;
        using var cleanup = new IpcCleanup();
        using ManagedSegment segment = NewSegment(cleanup);
        long offset = segment.OpenOrCreateBlock("counter", 64).Offset;
        (string Mode, string Strategy)[] kinds = [("sync", "SpinThenBlock"), ("async", "SpinThenBlock"), ("sync", "Block"), ("try", "SpinThenBlock"), ("sync", "SpinThenYield")];
        var children = kinds.Select(k => ChildProcess.StartChild("mutex-count", segment.Arg(), "m", "counter",
            iterations.ToString(CultureInfo.InvariantCulture), k.Mode, k.Strategy)).ToList();
        try
        {
            children.ForEach(c => c.WaitForLine("READY"));
            children.ForEach(c => c.StandardInput.WriteLine("GO"));
            children.ForEach(c => c.StandardInput.Flush());
            foreach (ChildProcess child in children)
            {
                Assert.Equal("DONE 0", child.WaitForLine("DONE", TimeSpan.FromSeconds(120)));
                Assert.Equal(0, child.WaitForExit(Generous));
            }

            Assert.Equal(kinds.Length * iterations, segment.ReadLong(offset));
            using var mutex = ShmMutex.Open(segment, "m");
            ShmMutexState state = mutex.GetState();
            Assert.False(state.IsHeld);
            Assert.Equal(0, state.AbandonedCount);
        }
        finally
        {
            children.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task A_Holder_Killed_While_Others_Wait_Is_Recovered_By_One_Of_Them_Who_Is_Told()
    {
        using var cleanup = new IpcCleanup();
        using ManagedSegment segment = NewSegment(cleanup);
        using var mutex = ShmMutex.OpenOrCreate(segment, "m");
        using var holder = ChildProcess.StartChild("mutex-hold", segment.Arg(), "m");
        holder.WaitForLine("HELD 0");
        Assert.Equal(holder.Id, mutex.GetState().OwnerProcessId);

        // Two waiters here (sync and async); each watches the holder through the liveness monitor (one shared pidfd).
        var syncHeld = new TaskCompletionSource<ShmMutexHolder>(TaskCreationOptions.RunContinuationsAsynchronously);
        var (thread, _) = StartThread(() => syncHeld.SetResult(mutex.Lock(Generous)));
        Task<ShmMutexHolder> asyncHeld = mutex.LockAsync(Generous).AsTask();
        WaitUntil(() => mutex.GetState().SleepingWaiters == 2, "both waiters to sleep");

        long killedAt = MonotonicClock.Now;
        Assert.Equal(0, ProcessCalls.kill(holder.Id, ProcessCalls.SIGKILL));
        Task<ShmMutexHolder> firstTask = await Task.WhenAny(syncHeld.Task, asyncHeld).WaitAsync(Generous);
        long acquiredAt = MonotonicClock.Now;
        output.WriteLine($"SIGKILL to the next owner's acquisition (seen by the test): {(acquiredAt - killedAt) / 1000.0:0} µs, by the {(firstTask == asyncHeld ? "async" : "sync")} waiter");

        // Whoever came first was told; the other gets it after a consistent release and is not.
        ShmMutexHolder first = await firstTask;
        Assert.True(first.IsAbandoned);
        first.MarkConsistent();
        first.Dispose();
        Task<ShmMutexHolder> secondTask = firstTask == asyncHeld ? syncHeld.Task : asyncHeld;
        ShmMutexHolder second = await secondTask.WaitAsync(Generous);
        Assert.False(second.IsAbandoned);
        second.Dispose();
        Assert.True(thread.Join(Generous));
        Assert.Equal(1, mutex.GetState().AbandonedCount);
    }

    [Fact]
    public void Not_Recoverable_Travels_Across_Processes_Until_Reset()
    {
        using var cleanup = new IpcCleanup();
        using ManagedSegment segment = NewSegment(cleanup);
        using var mutex = ShmMutex.OpenOrCreate(segment, "m");
        using (var victim = ChildProcess.StartChild("mutex-hold", segment.Arg(), "m"))
        {
            victim.WaitForLine("HELD 0");
            victim.Kill();
        }

        using var careless = ChildProcess.StartChild("mutex-hold", segment.Arg(), "m");
        careless.WaitForLine("HELD 1"); // told it was abandoned
        careless.StandardInput.WriteLine("RELEASE"); // … and released it without MarkConsistent
        careless.StandardInput.Flush();
        careless.WaitForLine("RELEASED");
        Assert.True(mutex.GetState().IsNotRecoverable);
        Assert.Throws<ShmLockNotRecoverableException>(() => mutex.Lock(Generous));
        careless.StandardInput.WriteLine("LOCK");
        careless.StandardInput.Flush();
        Assert.Equal(1, careless.WaitForExit(Generous));
        Assert.Contains("ShmLockNotRecoverableException", careless.StandardError, StringComparison.Ordinal);

        Assert.True(mutex.ResetNotRecoverable());
        using ShmMutexHolder fresh = mutex.Lock();
        Assert.False(fresh.IsAbandoned);
    }

    [Fact]
    public void An_Idle_Blocked_Waiter_Has_No_Wake_Ups()
    {
        using var cleanup = new IpcCleanup();
        using ManagedSegment segment = NewSegment(cleanup);
        using var mutex = ShmMutex.OpenOrCreate(segment, "m");
        mutex.WaitStrategy = ShmWaitStrategy.Block;
        using var holder = ChildProcess.StartChild("mutex-hold", segment.Arg(), "m");
        holder.WaitForLine("HELD 0");
        using var cts = new CancellationTokenSource();
        ShmMutexHolder? got = null;
        var (thread, tid) = StartThread(() => got = mutex.Lock(Generous, cts.Token));
        WaitUntil(() => mutex.GetState().SleepingWaiters == 1 && Futexes.FutexTestSupport.IsBlockedIn(Environment.ProcessId, tid, Syscalls.SYS_futex_waitv), "the waiter to block");
        long before = Futexes.FutexTestSupport.VoluntarySwitches(tid);
        Thread.Sleep(1000);
        long wakeUps = Futexes.FutexTestSupport.VoluntarySwitches(tid) - before;
        output.WriteLine($"wake-ups of a waiter blocked on a held ShmMutex (watching its holder, cancellable) in ~1 s: {wakeUps}");

        holder.StandardInput.WriteLine("RELEASE");
        holder.StandardInput.Flush();
        Assert.True(thread.Join(Generous));
        Assert.False(got!.Value.IsAbandoned);
        got.Value.Dispose();
        Assert.True(wakeUps <= 1, $"the blocked waiter woke {wakeUps} times while idle");
    }

    [Fact]
    public async Task LockAsync_From_Many_Tasks_Blocks_No_Pool_Thread()
    {
        const int tasks = 200;
        using var cleanup = new IpcCleanup();
        using ManagedSegment segment = NewSegment(cleanup);
        long offset = segment.OpenOrCreateBlock("counter", 64).Offset;
        using var mutex = ShmMutex.OpenOrCreate(segment, "m");
        using var holder = ChildProcess.StartChild("mutex-hold", segment.Arg(), "m");
        holder.WaitForLine("HELD 0");
        int threadsBefore = ThreadPool.ThreadCount;

        var waiters = Enumerable.Range(0, tasks).Select(_ => Task.Run(async () =>
        {
            using ShmMutexHolder h = await mutex.LockAsync(TimeSpan.FromSeconds(60));
            long v = segment.ReadLong(offset);
            segment.Attachment.Write(offset, v + 1);
        })).ToArray();
        WaitUntil(() => mutex.GetState().SleepingWaiters == tasks, "every task to be registered with the waiter thread");

        // Every waiter is parked with the shared futex waiter thread: the pool is free for other work.
        Assert.Equal(42, await Task.Run(() => 42).WaitAsync(Generous));
        int threadsWhileWaiting = ThreadPool.ThreadCount;
        output.WriteLine($"pool threads: {threadsBefore} before, {threadsWhileWaiting} with {tasks} LockAsync waiters pending; futex waiter threads {FutexWaitThread.ThreadCount}");
        Assert.True(threadsWhileWaiting < tasks / 4, $"{threadsWhileWaiting} pool threads for {tasks} waiters");

        holder.StandardInput.WriteLine("RELEASE");
        holder.StandardInput.Flush();
        await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(120));
        Assert.Equal(tasks, segment.ReadLong(offset));
        Assert.Equal(default(ShmMutexState), mutex.GetState());
    }

    [EnvironmentFact(Needs.Root | Needs.UtilLinux)]
    public void An_Owner_In_Another_Pid_Namespace_Is_Watched_Through_Its_Token_And_Recovered()
    {
        using var cleanup = new IpcCleanup();
        using ManagedSegment segment = NewSegment(cleanup);
        using var mutex = ShmMutex.OpenOrCreate(segment, "m");
        using var holder = ChildProcess.Start("unshare", ["--pid", "--fork", "--kill-child", ChildProcess.DotnetHost, ChildProcess.TestChildDll, "mutex-hold", segment.Arg(), "m"]);
        string[] held = holder.WaitForLine("HELD 0").Split(' ');
        Assert.Equal("1", held[2]); // pid 1 of its own namespace
        ManagedSegmentParticipant owner = segment.GetParticipants().Single(p => !p.IsCurrentProcess);
        Assert.NotEqual((long)ProcessIdentity.Current.PidNamespaceInode, owner.PidNamespaceInode);
        Assert.Equal(ShmParticipantLiveness.Alive, owner.Liveness); // judged by its token: its pid means nothing here

        ShmMutexHolder? got = null;
        long acquiredAt = 0;
        var (thread, _) = StartThread(() =>
        {
            got = mutex.Lock(Generous);
            acquiredAt = MonotonicClock.Now;
        });
        WaitUntil(() => mutex.GetState().SleepingWaiters == 1, "the waiter to sleep");
        long killedAt = MonotonicClock.Now;
        Assert.Equal(0, ProcessCalls.kill(holder.Id, ProcessCalls.SIGKILL)); // unshare --kill-child: our holder (its namespace's init) dies with it
        Assert.True(thread.Join(Generous));
        output.WriteLine($"owner in another pid namespace: SIGKILL to acquisition {(acquiredAt - killedAt) / 1e6:0.0} ms");
        Assert.True(got!.Value.IsAbandoned);
        got.Value.MarkConsistent();
        got.Value.Dispose();
    }
}
