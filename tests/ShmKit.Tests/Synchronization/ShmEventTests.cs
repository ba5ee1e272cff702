using System.Globalization;
using static ShmKit.Tests.Synchronization.SyncTestSupport;

namespace ShmKit.Tests.Synchronization;

/// <summary>ShmEvent: auto- and manual-reset semantics in one process and across processes, and the ping-pong hand-off.</summary>
public class ShmEventTests
{
    [Fact]
    public void Auto_Reset_Releases_One_Wait_Per_Set_And_Signals_Do_Not_Accumulate()
    {
        using var cleanup = new IpcCleanup();
        using ManagedSegment segment = NewSegment(cleanup);
        using var e = ShmEvent.OpenOrCreate(segment, "e", EventResetMode.AutoReset);
        Assert.Equal(EventResetMode.AutoReset, e.ResetMode);
        Assert.False(e.IsSet);
        Assert.False(e.Wait(TimeSpan.Zero));
        e.Set();
        e.Set();
        Assert.True(e.IsSet);
        Assert.True(e.Wait(TimeSpan.Zero));
        Assert.False(e.IsSet); // reset by the waiter it released
        Assert.False(e.Wait(TimeSpan.FromMilliseconds(20)));
        e.Set();
        e.Reset();
        Assert.False(e.Wait(TimeSpan.Zero));
        Assert.Equal(new ShmEventState(false, EventResetMode.AutoReset, 0), e.GetState());

        using var initiallySet = ShmEvent.OpenOrCreate(segment, "set", EventResetMode.AutoReset, initialState: true);
        Assert.True(initiallySet.IsSet);
        var conflict = Assert.Throws<ShmNameConflictException>(() => ShmEvent.OpenOrCreate(segment, "e", EventResetMode.ManualReset));
        Assert.Contains("reset mode AutoReset", conflict.Message, StringComparison.Ordinal);
        using var opened = ShmEvent.Open(segment, "e");
        Assert.Equal(EventResetMode.AutoReset, opened.ResetMode);
        Assert.Throws<ArgumentOutOfRangeException>(() => ShmEvent.OpenOrCreate(segment, "x", (EventResetMode)7));
    }

    [Fact]
    public void Manual_Reset_Releases_Every_Wait_Until_Reset()
    {
        using var cleanup = new IpcCleanup();
        using ManagedSegment segment = NewSegment(cleanup);
        using var e = ShmEvent.OpenOrCreate(segment, "e", EventResetMode.ManualReset);
        e.Set();
        Assert.True(e.Wait(TimeSpan.Zero));
        Assert.True(e.Wait(TimeSpan.Zero));
        Assert.True(e.IsSet);
        e.Reset();
        Assert.False(e.Wait(TimeSpan.Zero));
    }

    [Fact]
    public async Task Async_And_Sync_Waiters_Are_Woken_Only_When_Flagged_And_Cancelled_Ones_Leave_No_Trace()
    {
        using var cleanup = new IpcCleanup();
        using ManagedSegment segment = NewSegment(cleanup);
        using var e = ShmEvent.OpenOrCreate(segment, "e", EventResetMode.ManualReset);
        Task<bool> asyncWaiter = e.WaitAsync(Generous).AsTask();
        bool syncResult = false;
        var (thread, _) = StartThread(() => syncResult = e.Wait(Generous));
        WaitUntil(() => e.GetState().SleepingWaiters == 2, "both waiters to sleep");
        e.Set();
        Assert.True(await asyncWaiter.WaitAsync(Generous));
        Assert.True(thread.Join(Generous));
        Assert.True(syncResult);
        Assert.Equal(new ShmEventState(true, EventResetMode.ManualReset, 0), e.GetState());

        e.Reset();
        using var cts = new CancellationTokenSource();
        Task<bool> cancelled = e.WaitAsync(cancellationToken: cts.Token).AsTask();
        WaitUntil(() => e.GetState().SleepingWaiters == 1, "the waiter to sleep");
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Generous));
        Assert.Equal(new ShmEventState(false, EventResetMode.ManualReset, 0), e.GetState());
    }

    [Fact]
    public void Across_Processes_An_Auto_Reset_Set_Releases_One_Waiter_And_A_Manual_Reset_Set_Releases_All()
    {
        using var cleanup = new IpcCleanup();
        using ManagedSegment segment = NewSegment(cleanup);
        using var auto = ShmEvent.OpenOrCreate(segment, "auto", EventResetMode.AutoReset);
        using var manual = ShmEvent.OpenOrCreate(segment, "manual", EventResetMode.ManualReset);

        var autoWaiters = Enumerable.Range(0, 2).Select(_ => ChildProcess.StartChild("event-wait", segment.Arg(), "auto", "AutoReset", "30000")).ToList();
        var manualWaiters = Enumerable.Range(0, 3).Select(_ => ChildProcess.StartChild("event-wait", segment.Arg(), "manual", "ManualReset", "30000")).ToList();
        try
        {
            autoWaiters.ForEach(c => c.WaitForLine("WAITING"));
            manualWaiters.ForEach(c => c.WaitForLine("WAITING"));
            WaitUntil(() => auto.GetState().SleepingWaiters == 2 && manual.GetState().SleepingWaiters == 3, "every child to sleep");

            auto.Set();
            WaitUntil(() => autoWaiters.Count(c => c.StandardOutput.Contains("WOKE", StringComparison.Ordinal)) == 1, "one auto-reset waiter to wake");
            WaitUntil(() => auto.GetState().SleepingWaiters == 1, "the woken waiter to leave");
            Assert.False(auto.IsSet); // consumed by the one it released; the other sleeps on
            Assert.Single(autoWaiters, c => c.StandardOutput.Contains("WOKE", StringComparison.Ordinal));
            auto.Set();
            autoWaiters.ForEach(c => c.WaitForLine("WOKE"));

            manual.Set();
            manualWaiters.ForEach(c => c.WaitForLine("WOKE"));
            Assert.True(manual.IsSet);
            Assert.Equal(0, manual.GetState().SleepingWaiters);
            autoWaiters.Concat(manualWaiters).ToList().ForEach(c => c.StandardInput.Close());
            autoWaiters.Concat(manualWaiters).ToList().ForEach(c => Assert.Equal(0, c.WaitForExit(Generous)));
        }
        finally
        {
            autoWaiters.Concat(manualWaiters).ToList().ForEach(c => c.Dispose());
        }
    }

    [Theory]
    [InlineData("SpinThenBlock", 20_000)]
    [InlineData("Block", 2_000)]
    public void Two_Auto_Reset_Events_Ping_Pong_Between_Two_Processes(string strategy, int rounds)
    {
        using var cleanup = new IpcCleanup();
        using ManagedSegment segment = NewSegment(cleanup);
        long offset = segment.OpenOrCreateBlock("pp", 64).Offset;
        string n = rounds.ToString(CultureInfo.InvariantCulture);
        using var pong = ChildProcess.StartChild("event-pingpong", segment.Arg(), "a", "b", n, "pong", strategy);
        using var ping = ChildProcess.StartChild("event-pingpong", segment.Arg(), "a", "b", n, "ping", strategy);
        pong.WaitForLine("READY");
        ping.WaitForLine("READY");
        pong.StandardInput.WriteLine("GO");
        pong.StandardInput.Flush();
        ping.StandardInput.WriteLine("GO");
        ping.StandardInput.Flush();
        ping.WaitForLine("DONE", TimeSpan.FromSeconds(120));
        pong.WaitForLine("DONE", TimeSpan.FromSeconds(120));
        Assert.Equal(0, ping.WaitForExit(Generous));
        Assert.Equal(0, pong.WaitForExit(Generous));
        Assert.Equal((rounds, rounds), (segment.ReadLong(offset), segment.ReadLong(offset + 8)));
        using var a = ShmEvent.Open(segment, "a");
        using var b = ShmEvent.Open(segment, "b");
        Assert.False(a.IsSet || b.IsSet);
    }
}
