using System.Globalization;
using ShmKit.Interop;
using ShmKit.Tests.Futexes;
using Xunit.Abstractions;

namespace ShmKit.Tests.Memory;

/// <summary>
/// The Memory layer's two waits for another process — an opener waiting for a header to become Ready, a creator
/// waiting on a directory entry another process is constructing — are true blocking waits: no wake-ups while idle
/// (counted with voluntary_ctxt_switches, not timed), woken at once by cancellation, interrupted by the other
/// process's death (through the liveness monitor), also when that process lives in another pid namespace.
/// </summary>
public class ManagedSegmentWaitTests(ITestOutputHelper output)
{
    [Fact]
    public void An_Opener_Blocked_On_A_Segment_Being_Initialized_Makes_No_Wake_Ups_Wakes_When_Cancelled_And_Learns_Of_The_Creators_Death()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        using var creator = ChildProcess.StartChild("managed-create-stall", key.ToString(), "16384");
        creator.WaitForLine("CLAIMED");

        using var cts = new CancellationTokenSource();
        AssertIdleUntilCancelled("ManagedSegment.Open", () => ManagedSegment.Open(key, Timeout.InfiniteTimeSpan, cts.Token).Dispose(), cts);

        // A generous timeout: an opener that missed the death would end with ShmStructureNotReadyException instead.
        Exception? failure = BlockThenRun(() => ManagedSegment.Open(key, TimeSpan.FromSeconds(60)).Dispose(), creator.Kill);
        var poisoned = Assert.IsType<ShmStructurePoisonedException>(failure);
        Assert.Equal(creator.Id, poisoned.CreatorProcessId);
    }

    [Fact]
    public void A_Creator_Blocked_On_A_Claimed_Directory_Entry_Makes_No_Wake_Ups_Wakes_When_Cancelled_And_Takes_Over_When_The_Claimer_Dies()
    {
        using var cleanup = new IpcCleanup();
        using var stalled = ManagedSegmentTestSupport.CreateWithStalledConstructor(cleanup, "s-stuck");
        ManagedSegment segment = stalled.Segment;

        using var cts = new CancellationTokenSource();
        AssertIdleUntilCancelled("OpenOrCreateBlock", () => segment.OpenOrCreateBlock("s-stuck", 128, Timeout.InfiniteTimeSpan, cts.Token), cts);
        Assert.Equal(ShmDirectoryEntryState.Constructing, Assert.Single(segment.GetEntries()).State); // the waiter left no trace

        ManagedSegmentBlock? block = null;
        Exception? failure = BlockThenRun(() => block = segment.OpenOrCreateBlock("s-stuck", 128, TimeSpan.FromSeconds(60)), stalled.Constructor.Kill);
        Assert.Null(failure);
        Assert.True(block!.Value.WasCreated);
        ManagedSegmentEntry entry = Assert.Single(segment.GetEntries());
        Assert.Equal(("s-stuck", ShmDirectoryEntryState.Ready, ShmStructureKind.Block), (entry.Name, entry.State, entry.Kind));
    }

    /// <summary>
    /// Issue 8: a creator in another pid namespace (same IPC namespace, as in pods that share IPC but not pids) that
    /// dies while initializing. /proc cannot judge it from here; its SEM_UNDO initializer token can: the opener is told
    /// the segment is poisoned instead of waiting for its timeout, and OpenOrCreate takes the initialization over.
    /// </summary>
    [EnvironmentFact(Needs.Root | Needs.UtilLinux)]
    public void A_Creator_In_Another_Pid_Namespace_That_Dies_While_Initializing_Is_Seen_Dead_Through_Its_Token()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        using var creator = ChildProcess.Start("unshare",
            ["--pid", "--fork", "--kill-child", ChildProcess.DotnetHost, ChildProcess.TestChildDll, "managed-create-stall", key.ToString(), "16384"]);
        int staleTokens = int.Parse(creator.WaitForLine("CLAIMED").Split(' ')[1], CultureInfo.InvariantCulture);

        var busy = Assert.Throws<ShmStructureNotReadyException>(() => ManagedSegment.Open(key, TimeSpan.FromMilliseconds(200)));
        Assert.Equal(1, busy.InitializerProcessId); // pid 1 of its own namespace: only its token tells us about it
        Assert.Contains("is alive", busy.Message, StringComparison.Ordinal);

        // Kill waits for unshare only; the namespace's init then dies through --kill-child, and its exit releases the
        // token, which the monitor's token thread sees.
        Exception? failure = BlockThenRun(() => ManagedSegment.Open(key, TimeSpan.FromSeconds(60)).Dispose(), creator.Kill);
        var poisoned = Assert.IsType<ShmStructurePoisonedException>(failure);
        Assert.Equal(1, poisoned.CreatorProcessId);

        using var segment = ManagedSegment.OpenOrCreate(key, 16 * 1024, ManagedSegmentTestSupport.Small);
        Assert.True(segment.WasCreated);
        Assert.NotEqual(staleTokens, segment.LivenessTokens.Id);
        Assert.Throws<IpcObjectNotFoundException>(() => SemaphoreSet.OpenById(staleTokens));
    }

    /// <summary>
    /// Runs <paramref name="wait"/> on a thread until it blocks in futex_waitv, counts its voluntary context switches
    /// over about a second (each is one sleep: a waiter that polled would add one per wake-up), then cancels it and
    /// expects it to end with OperationCanceledException.
    /// </summary>
    private void AssertIdleUntilCancelled(string what, Action wait, CancellationTokenSource cts)
    {
        Exception? failure = null;
        var (thread, tid) = FutexTestSupport.StartThread(() => failure = Catch(wait));
        try
        {
            FutexTestSupport.WaitUntil(() => FutexTestSupport.IsBlockedIn(Environment.ProcessId, tid, Syscalls.SYS_futex_waitv), $"{what} to block in futex_waitv");
            long before = FutexTestSupport.VoluntarySwitches(tid);
            Thread.Sleep(1000);
            long wakeUps = FutexTestSupport.VoluntarySwitches(tid) - before;
            output.WriteLine($"{what}: {wakeUps} wake-ups in ~1 s while blocked");
            Assert.True(wakeUps <= 1, $"{what} woke {wakeUps} times while idle");
        }
        finally
        {
            cts.Cancel();
            Assert.True(thread.Join(FutexTestSupport.Generous), $"{what} did not end after its cancellation");
        }

        Assert.IsAssignableFrom<OperationCanceledException>(failure);
    }

    /// <summary>Runs <paramref name="wait"/> on a thread until it blocks in futex_waitv, then runs <paramref name="then"/>; returns what the wait threw.</summary>
    private static Exception? BlockThenRun(Action wait, Action then)
    {
        Exception? failure = null;
        var (thread, tid) = FutexTestSupport.StartThread(() => failure = Catch(wait));
        FutexTestSupport.WaitUntil(() => FutexTestSupport.IsBlockedIn(Environment.ProcessId, tid, Syscalls.SYS_futex_waitv), "the waiter to block in futex_waitv");
        then();
        Assert.True(thread.Join(TimeSpan.FromSeconds(90)), "the waiter did not end");
        return failure;
    }

    private static Exception? Catch(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
