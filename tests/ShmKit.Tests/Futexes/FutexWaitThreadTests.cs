using System.Runtime.InteropServices;
using Xunit.Abstractions;

namespace ShmKit.Tests.Futexes;

/// <summary>Asynchronous futex waits: the shared futex_waitv waiter threads, woken from another process.</summary>
public class FutexWaitThreadTests(ITestOutputHelper output) : IDisposable
{
    public void Dispose()
    {
        GC.SuppressFinalize(this);
        Futex.ForceWaitvFallback = false;
        FutexWaitThread.IdleLinger = TimeSpan.FromSeconds(1);
    }

    [Fact]
    public async Task Two_Hundred_Async_Waits_Complete_When_Another_Process_Wakes_Them_Without_Blocking_The_Pool()
    {
        using var shm = new FutexSegment();
        const int Count = 200;
        const int Stride = 64;
        int poolThreadsBefore = ThreadPool.ThreadCount;
        var waits = new Task<FutexWaitResult>[Count];
        for (int i = 0; i < Count; i++)
        {
            waits[i] = shm.WaitAsync(i * Stride, 0, MonotonicClock.Infinite, CancellationToken.None).AsTask();
        }

        Assert.Equal(Count, FutexWaitThread.PendingCount);
        Assert.Equal(2, FutexWaitThread.BusyThreadCount); // 127 words per thread
        FutexTestSupport.WaitUntil(() => FutexWaitThread.PendingCount == Count && waits.All(w => !w.IsCompleted), "the waits to be registered");
        Assert.Equal(0, ThreadPool.PendingWorkItemCount);
        Assert.True(ThreadPool.ThreadCount <= poolThreadsBefore + 4, $"the pool grew from {poolThreadsBefore} to {ThreadPool.ThreadCount} threads");

        var (code, stdout, stderr) = ChildProcess.RunChild("futex-wake", shm.Key.ToString(), "0", Count.ToString(System.Globalization.CultureInfo.InvariantCulture), Stride.ToString(System.Globalization.CultureInfo.InvariantCulture), "1");
        Assert.True(code == 0, stderr);
        output.WriteLine(stdout.Trim());
        FutexWaitResult[] results = await Task.WhenAll(waits).WaitAsync(FutexTestSupport.Generous);
        Assert.All(results, r => Assert.True(r is FutexWaitResult.Woken or FutexWaitResult.ValueChanged, r.ToString()));
        Assert.Equal(0, FutexWaitThread.PendingCount);
        Assert.True(ThreadPool.ThreadCount <= poolThreadsBefore + 4, $"the pool grew from {poolThreadsBefore} to {ThreadPool.ThreadCount} threads");

        FutexWaitThread.IdleLinger = TimeSpan.Zero;
        var again = shm.WaitAsync(0, 1, MonotonicClock.Now + 1_000_000, CancellationToken.None); // nudges an idle thread to end
        Assert.Equal(FutexWaitResult.TimedOut, await again);
        FutexTestSupport.WaitUntil(() => FutexWaitThread.ThreadCount == 0, "idle waiter threads to end");
    }

    [Fact]
    public async Task Cancelling_A_Pending_Async_Wait_Throws_OperationCanceled_And_Leaves_The_Word()
    {
        using var shm = new FutexSegment();
        shm.Store(0, 9);
        using var cts = new CancellationTokenSource();
        ValueTask<FutexWaitResult> wait = shm.WaitAsync(0, 9, MonotonicClock.Infinite, cts.Token);
        Assert.False(wait.IsCompleted);
        FutexTestSupport.WaitUntil(() => FutexWaitThread.PendingCount == 1, "the wait to be registered");
        cts.Cancel();
        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await wait);
        Assert.Equal(cts.Token, e.CancellationToken);
        Assert.Equal(9, shm.Load(0));
        Assert.Equal(0, FutexWaitThread.PendingCount);
        Assert.Equal(0, shm.WakeAll(0));

        // Already cancelled: at once.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await shm.WaitAsync(0, 9, MonotonicClock.Infinite, cts.Token));
    }

    [Fact]
    public async Task Many_Async_Cancellations_Leave_No_Registration()
    {
        using var shm = new FutexSegment();
        var random = new Random(3);
        for (int i = 0; i < 200; i++)
        {
            using var cts = new CancellationTokenSource();
            ValueTask<FutexWaitResult> wait = shm.WaitAsync(0, 0, MonotonicClock.Infinite, cts.Token);
            Thread.SpinWait(random.Next(0, 5_000));
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await wait);
        }

        Assert.Equal(0, FutexWaitThread.PendingCount);
        Assert.Equal(0, shm.WakeAll(0));
    }

    [Fact]
    public void A_Misaligned_Word_Is_Refused_Before_It_Reaches_A_Shared_Waiter()
    {
        using var shm = new FutexSegment();
        var e = Assert.Throws<ArgumentException>(() => { shm.WaitAsync(2, 0, MonotonicClock.Infinite, CancellationToken.None).AsTask().Dispose(); });
        Assert.Contains("4-byte aligned", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_Async_Wait_Times_Out_At_Its_Deadline()
    {
        using var shm = new FutexSegment();
        long deadline = MonotonicClock.DeadlineAfter(TimeSpan.FromMilliseconds(30));
        Assert.Equal(FutexWaitResult.TimedOut, await shm.WaitAsync(0, 0, deadline, CancellationToken.None));
        Assert.True(MonotonicClock.Now >= deadline);
    }

    [Fact]
    public async Task An_Async_Wait_Ends_When_The_Watched_Process_Dies()
    {
        using var shm = new FutexSegment();
        using var child = ChildProcess.Start("sleep", ["30"]);
        Assert.True(ProcessIdentity.TryGet(child.Id, out ProcessIdentity owner));
        ValueTask<FutexWaitResult> wait = shm.WaitAsync(0, 0, MonotonicClock.Infinite, CancellationToken.None, owner);
        Assert.False(wait.IsCompleted);
        child.Kill();
        Assert.Equal(FutexWaitResult.Interrupted, await wait.AsTask().WaitAsync(FutexTestSupport.Generous));
    }

    [Fact]
    public async Task The_Mapping_Handle_Is_Held_Until_The_Wait_Completes()
    {
        using var shm = new FutexSegment();
        var handle = new CountingHandle();
        ValueTask<FutexWaitResult> wait = shm.WaitAsync(0, 0, MonotonicClock.Infinite, CancellationToken.None, mapping: handle);
        handle.Dispose(); // the caller lets go early: the registration still holds a reference
        FutexTestSupport.WaitUntil(() => FutexWaitThread.PendingCount == 1, "the wait to be registered");
        Assert.False(handle.Released);
        shm.Store(0, 1);
        shm.WakeAll(0);
        Assert.NotEqual(FutexWaitResult.TimedOut, await wait);
        Assert.True(handle.Released);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await shm.WaitAsync(0, 1, MonotonicClock.Infinite, CancellationToken.None, mapping: handle));
    }

    [Fact]
    public async Task The_Dedicated_Thread_Fallback_Wakes_And_Cancels()
    {
        using var shm = new FutexSegment();
        Futex.ForceWaitvFallback = true;
        ValueTask<FutexWaitResult> woken = shm.WaitAsync(0, 0, MonotonicClock.Infinite, CancellationToken.None);
        using var cts = new CancellationTokenSource();
        ValueTask<FutexWaitResult> cancelled = shm.WaitAsync(64, 0, MonotonicClock.Infinite, cts.Token);
        FutexTestSupport.WaitUntil(() => FutexWaitThread.ThreadCount >= 2, "the dedicated threads to start");
        shm.Store(0, 1);
        shm.WakeAll(0);
        cts.Cancel();
        Assert.NotEqual(FutexWaitResult.TimedOut, await woken);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await cancelled);
    }

    [Fact]
    public void The_Synchronous_Fast_Path_Allocates_Nothing()
    {
        using var shm = new FutexSegment();
        shm.Store(0, 1);
        using var cts = new CancellationTokenSource();
        Assert.True(FastPathOnce(shm, cts.Token));
        long before = GC.GetAllocatedBytesForCurrentThread();
        bool all = true;
        for (int i = 0; i < 1000; i++)
        {
            all &= FastPathOnce(shm, cts.Token);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(all, "the fast path did not complete synchronously");
        Assert.Equal(0, allocated);
    }

    private static bool FastPathOnce(FutexSegment shm, CancellationToken token)
    {
        ValueTask<FutexWaitResult> changed = shm.WaitAsync(0, 0, MonotonicClock.Infinite, token);
        ValueTask<FutexWaitResult> expired = shm.WaitAsync(0, 1, MonotonicClock.Now - 1, CancellationToken.None);
        return changed.IsCompletedSuccessfully && expired.IsCompletedSuccessfully
            && changed.Result == FutexWaitResult.ValueChanged && expired.Result == FutexWaitResult.TimedOut;
    }

    /// <summary>A SafeHandle that records when its last reference is released.</summary>
    private sealed class CountingHandle() : SafeHandle(-1, ownsHandle: true)
    {
        private int _released;

        public bool Released => Volatile.Read(ref _released) == 1;

        public override bool IsInvalid => false;

        protected override bool ReleaseHandle()
        {
            Volatile.Write(ref _released, 1);
            return true;
        }
    }
}
