using System.Globalization;
using Xunit.Abstractions;
using static ShmKit.Tests.Synchronization.SyncTestSupport;

namespace ShmKit.Tests.Synchronization;

/// <summary>
/// ShmMutex within one process. A second <see cref="ManagedSegment"/> of the same segment is a second participant
/// (another owner id), which stands in for another process where only the lock word matters; a registration that is
/// disposed while it holds the lock is a dead owner whose slot moved on.
/// </summary>
public class ShmMutexTests(ITestOutputHelper output)
{
    [Fact]
    public void Lock_And_Unlock_Uncontended_Then_Double_Dispose_Is_A_No_Op()
    {
        using var cleanup = new IpcCleanup();
        using ManagedSegment segment = NewSegment(cleanup);
        using var mutex = ShmMutex.OpenOrCreate(segment, "m");
        Assert.True(mutex.WasCreated);
        using (var again = ShmMutex.OpenOrCreate(segment, "m"))
        {
            Assert.False(again.WasCreated);
            Assert.Equal(mutex.Offset, again.Offset);
        }

        ShmMutexHolder holder = mutex.Lock();
        Assert.True(holder.IsHeld);
        Assert.False(holder.IsAbandoned);
        Assert.Same(mutex, holder.Mutex);
        ShmMutexState held = mutex.GetState();
        Assert.Equal((true, segment.OwnerId, Environment.ProcessId, (ShmParticipantLiveness?)ShmParticipantLiveness.Alive, false, 0),
            (held.IsHeld, held.OwnerId, held.OwnerProcessId, held.OwnerLiveness, held.HasWaiters, held.SleepingWaiters));

        ShmMutexHolder copy = holder;
        holder.Dispose();
        Assert.False(holder.IsHeld);
        Assert.False(copy.IsHeld);
        Assert.Equal(default(ShmMutexState), mutex.GetState());

        // A second holder now owns it: disposing the old one (or its copy) again must not release the new one.
        using ShmMutexHolder second = mutex.Lock();
        holder.Dispose();
        copy.Dispose();
        Assert.True(second.IsHeld);
        Assert.True(mutex.GetState().IsHeld);
        default(ShmMutexHolder).Dispose();
        Assert.Throws<SynchronizationLockException>(() => default(ShmMutexHolder).MarkConsistent());
    }

    [Fact]
    public async Task Another_Participant_Cannot_Take_It_And_Times_Out_With_A_Clear_Message_And_No_Trace()
    {
        using var cleanup = new IpcCleanup();
        using ManagedSegment segment = NewSegment(cleanup);
        using var other = ManagedSegment.Open(segment.Key);
        using var mutex = ShmMutex.OpenOrCreate(segment, "m");
        using var theirs = ShmMutex.Open(other, "m");
        using ShmMutexHolder holder = mutex.Lock();

        Assert.False(theirs.TryLock(out ShmMutexHolder none));
        Assert.False(none.IsHeld);
        var timeout = Assert.Throws<TimeoutException>(() => theirs.Lock(TimeSpan.FromMilliseconds(50)));
        Assert.Contains("'m'", timeout.Message, StringComparison.Ordinal);
        Assert.Contains(Environment.ProcessId.ToString(CultureInfo.InvariantCulture), timeout.Message, StringComparison.Ordinal);
        Assert.Throws<TimeoutException>(() => theirs.Lock(TimeSpan.Zero));
        await Assert.ThrowsAsync<TimeoutException>(async () => await theirs.LockAsync(TimeSpan.FromMilliseconds(50)));

        ShmMutexState state = mutex.GetState();
        Assert.Equal((segment.OwnerId, false, 0), (state.OwnerId, state.HasWaiters, state.SleepingWaiters)); // no trace
        holder.Dispose();
        Assert.True(theirs.TryLock(out ShmMutexHolder taken));
        taken.Dispose();
    }

    [Fact]
    public void Open_Finds_Only_Existing_Mutexes_And_Names_Belong_To_One_Kind()
    {
        using var cleanup = new IpcCleanup();
        using ManagedSegment segment = NewSegment(cleanup);
        var missing = Assert.Throws<IpcObjectNotFoundException>(() => ShmMutex.Open(segment, "nope"));
        Assert.Contains("'nope'", missing.Message, StringComparison.Ordinal);
        segment.OpenOrCreateBlock("bytes", 64);
        Assert.Throws<ShmNameConflictException>(() => ShmMutex.OpenOrCreate(segment, "bytes"));
        using (ShmSemaphore.OpenOrCreate(segment, "sem", 1, 1))
        {
            Assert.Throws<ShmNameConflictException>(() => ShmMutex.Open(segment, "sem"));
        }

        var mutex = ShmMutex.OpenOrCreate(segment, "m");
        mutex.Dispose();
        Assert.Throws<ObjectDisposedException>(() => mutex.Lock());
        Assert.Throws<ObjectDisposedException>(() => mutex.TryLock(out _));
    }

    [Fact]
    public void Disposing_The_Handle_Or_The_Segment_Never_Unmaps_Under_A_Holder()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        using var observer = ManagedSegment.Create(key, 64 * 1024, Options);
        var segment = ManagedSegment.Open(key);
        var mutex = ShmMutex.OpenOrCreate(segment, "m");
        ShmMutexHolder holder = mutex.Lock();
        mutex.Dispose();
        Assert.Throws<ObjectDisposedException>(() => mutex.Lock());
        Assert.True(holder.IsHeld);
        holder.Dispose(); // still unlocks, on the mapping the holder kept
        using (var view = ShmMutex.Open(observer, "m"))
        {
            Assert.False(view.GetState().IsHeld);
        }

        // A handle outlives its segment's Dispose: it keeps the mapping (nattch), refuses new operations (this
        // process's registration is gone), and the mapping goes when the handle is disposed.
        var second = ShmMutex.Open(segment, "m");
        segment.Dispose();
        Assert.Throws<ObjectDisposedException>(() => second.Lock());
        Assert.Equal(2, observer.Segment.Stat().AttachCount);
        second.Dispose();
        Assert.Equal(1, observer.Segment.Stat().AttachCount);
    }

    [Fact]
    public async Task A_Holder_Can_Be_Disposed_On_Another_Thread_After_An_Await()
    {
        using var cleanup = new IpcCleanup();
        using ManagedSegment segment = NewSegment(cleanup);
        using var other = ManagedSegment.Open(segment.Key);
        using var mutex = ShmMutex.OpenOrCreate(segment, "m");
        using var theirs = ShmMutex.Open(other, "m");

        int lockedOn = Environment.CurrentManagedThreadId;
        ShmMutexHolder holder = await mutex.LockAsync();
        await Task.Run(() => Assert.False(theirs.TryLock(out _)));
        int disposedOn = await Task.Run(() =>
        {
            holder.Dispose();
            return Environment.CurrentManagedThreadId;
        });
        Assert.NotEqual(lockedOn, disposedOn);
        Assert.True(theirs.TryLock(out ShmMutexHolder taken));
        taken.Dispose();

        // The same through a real contended async wait: the waiter resumes on a pool thread, the release comes from another.
        ShmMutexHolder first = mutex.Lock();
        ValueTask<ShmMutexHolder> pending = theirs.LockAsync(Generous);
        Assert.False(pending.IsCompleted);
        WaitUntil(() => mutex.GetState().SleepingWaiters == 1, "the async waiter to sleep");
        await Task.Run(first.Dispose);
        ShmMutexHolder second = await pending;
        Assert.Equal(other.OwnerId, theirs.GetState().OwnerId);
        await Task.Run(second.Dispose);
        Assert.Equal(default(ShmMutexState), mutex.GetState());
    }

    [Fact]
    public void A_Cancelled_Waiter_Wakes_At_Once_And_Leaves_No_Trace_In_The_Lock_Word()
    {
        using var cleanup = new IpcCleanup();
        using ManagedSegment segment = NewSegment(cleanup);
        using var other = ManagedSegment.Open(segment.Key);
        using var mutex = ShmMutex.OpenOrCreate(segment, "m");
        using var theirs = ShmMutex.Open(other, "m");
        using ShmMutexHolder holder = mutex.Lock();
        ShmMutexState before = mutex.GetState();

        foreach (bool async in new[] { false, true })
        {
            using var cts = new CancellationTokenSource();
            Exception? error = null;
            var (thread, _) = StartThread(() =>
            {
                try
                {
                    if (async)
                    {
                        theirs.LockAsync(cancellationToken: cts.Token).AsTask().GetAwaiter().GetResult();
                    }
                    else
                    {
                        theirs.Lock(cancellationToken: cts.Token);
                    }
                }
                catch (Exception e)
                {
                    error = e;
                }
            });
            WaitUntil(() => mutex.GetState() is { HasWaiters: true, SleepingWaiters: 1 }, "the waiter to sleep");
            cts.Cancel();
            Assert.True(thread.Join(Generous));
            Assert.IsAssignableFrom<OperationCanceledException>(error);
            Assert.Equal(before, mutex.GetState()); // WAITERS cleared, no sleeper counted
        }

        Assert.Throws<OperationCanceledException>(() => theirs.Lock(cancellationToken: new CancellationToken(true)));
        Assert.True(theirs.LockAsync(cancellationToken: new CancellationToken(true)).AsTask().IsCanceled);
    }

    [Fact]
    public async Task A_Holder_Whose_Registration_Ended_Is_Abandoned_And_Unmarked_It_Becomes_Not_Recoverable()
    {
        using var cleanup = new IpcCleanup();
        using ManagedSegment segment = NewSegment(cleanup);
        using var mutex = ShmMutex.OpenOrCreate(segment, "m");

        // A participant takes the lock and its registration ends (as when its process dies and the slot is reclaimed).
        var gone = ManagedSegment.Open(segment.Key);
        var theirs = ShmMutex.Open(gone, "m");
        ShmMutexHolder orphan = theirs.Lock();
        gone.Dispose();

        ShmMutexHolder recovered = mutex.Lock(Generous);
        Assert.True(recovered.IsAbandoned);
        ShmMutexState state = mutex.GetState();
        Assert.Equal((segment.OwnerId, true, false, 1), (state.OwnerId, state.IsInconsistent, state.IsNotRecoverable, state.AbandonedCount));

        // The old holder's release finds the lock taken over.
        Assert.Throws<SynchronizationLockException>(orphan.Dispose);
        theirs.Dispose();

        recovered.Dispose(); // without MarkConsistent
        Assert.True(mutex.GetState().IsNotRecoverable);
        var refused = Assert.Throws<ShmLockNotRecoverableException>(() => mutex.Lock());
        Assert.Contains("ResetNotRecoverable", refused.Message, StringComparison.Ordinal);
        Assert.Equal(("m", mutex.Offset), (refused.Name, refused.Offset));
        Assert.Throws<ShmLockNotRecoverableException>(() => mutex.TryLock(out _));
        await Assert.ThrowsAsync<ShmLockNotRecoverableException>(async () => await mutex.LockAsync());

        Assert.True(mutex.ResetNotRecoverable());
        Assert.False(mutex.ResetNotRecoverable());
        using (ShmMutexHolder fresh = mutex.Lock())
        {
            Assert.False(fresh.IsAbandoned);
            Assert.False(mutex.ResetNotRecoverable()); // held: nothing to reset
        }

        Assert.Equal(1, mutex.GetState().AbandonedCount);
    }

    [Fact]
    public void An_Abandoned_Lock_Marked_Consistent_Stays_Usable()
    {
        using var cleanup = new IpcCleanup();
        using ManagedSegment segment = NewSegment(cleanup);
        using var mutex = ShmMutex.OpenOrCreate(segment, "m");
        var gone = ManagedSegment.Open(segment.Key);
        using (var theirs = ShmMutex.Open(gone, "m"))
        {
            _ = theirs.Lock();
            gone.Dispose();
        }

        Assert.True(mutex.TryLock(out ShmMutexHolder recovered)); // TryLock recovers a dead holder too
        Assert.True(recovered.IsAbandoned);
        recovered.MarkConsistent();
        Assert.False(mutex.GetState().IsInconsistent);
        recovered.Dispose();
        Assert.Throws<SynchronizationLockException>(recovered.MarkConsistent);
        using ShmMutexHolder next = mutex.Lock();
        Assert.False(next.IsAbandoned);
        Assert.False(mutex.GetState().IsNotRecoverable);
    }

    [Fact]
    public void A_Lock_Word_Naming_A_Reused_Slot_Or_A_Reused_Pid_Is_Abandoned()
    {
        using var cleanup = new IpcCleanup();
        using ManagedSegment segment = NewSegment(cleanup);
        using var mutex = ShmMutex.OpenOrCreate(segment, "m");
        long word = mutex.Offset + StructureHeader.Size;
        const int slot = 15;

        // 1. The slot is Active, but at a later generation than the one the lock word names.
        Memory.ManagedSegmentTestSupport.WriteParticipant(segment.Attachment, slot, Environment.ProcessId, 1, 1, generation: 5);
        segment.Attachment.Write(word, new ParticipantRef(slot, 4).OwnerId);
        using (ShmMutexHolder h = mutex.Lock(Generous))
        {
            Assert.True(h.IsAbandoned);
            h.MarkConsistent();
        }

        // 2. Same generation, a live pid in this namespace with its token held, but another start time: pid reuse.
        using var sleeper = ChildProcess.Start("sleep", ["30"]);
        Assert.True(ProcessIdentity.TryGet(sleeper.Id, out ProcessIdentity live));
        Memory.ManagedSegmentTestSupport.WriteParticipant(segment.Attachment, slot, sleeper.Id, (long)live.StartTime + 1, (long)live.PidNamespaceInode, generation: 5);
        segment.LivenessTokens.Release(slot, 1, undo: true);
        try
        {
            segment.Attachment.Write(word, new ParticipantRef(slot, 5).OwnerId);
            using ShmMutexHolder h = mutex.Lock(Generous);
            Assert.True(h.IsAbandoned);
            h.MarkConsistent();
        }
        finally
        {
            segment.LivenessTokens.TryWait(slot, 1, undo: true);
        }

        Assert.Equal(2, mutex.GetState().AbandonedCount);
    }

    [Fact]
    public void Uncontended_Lock_TryLock_And_LockAsync_Allocate_Nothing()
    {
        using var cleanup = new IpcCleanup();
        using ManagedSegment segment = NewSegment(cleanup);
        using var mutex = ShmMutex.OpenOrCreate(segment, "m");
        for (int i = 0; i < 100; i++)
        {
            Cycle(mutex); // warm up (tiering, statics)
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            Cycle(mutex);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"allocated over 10,000 Lock/TryLock/LockAsync cycles: {allocated} B");
        Assert.Equal(0, allocated);

        static void Cycle(ShmMutex mutex)
        {
            mutex.Lock().Dispose();
            if (mutex.TryLock(out ShmMutexHolder h))
            {
                h.Dispose();
            }

            ValueTask<ShmMutexHolder> pending = mutex.LockAsync();
            pending.Result.Dispose();
        }
    }

    [Fact]
    public void Threads_Of_Two_Participants_Increment_A_Counter_Exactly_With_Every_Strategy()
    {
        using var cleanup = new IpcCleanup();
        using ManagedSegment segment = NewSegment(cleanup);
        using var other = ManagedSegment.Open(segment.Key);
        long offset = segment.OpenOrCreateBlock("counter", 64).Offset;
        const int threads = 4;
        const int iterations = 2000;
        ShmWaitStrategy[] strategies = [ShmWaitStrategy.SpinThenBlock, ShmWaitStrategy.Block, ShmWaitStrategy.SpinThenYield, ShmWaitStrategy.BusySpin];
        var mutexes = new List<ShmMutex>();
        var workers = new List<Thread>();
        for (int t = 0; t < threads; t++)
        {
            var mutex = ShmMutex.OpenOrCreate(t % 2 == 0 ? segment : other, "m");
            mutex.WaitStrategy = strategies[t];
            mutexes.Add(mutex);
            workers.Add(new Thread(() =>
            {
                for (int i = 0; i < iterations; i++)
                {
                    using ShmMutexHolder h = mutex.Lock(Generous);
                    long v = segment.ReadLong(offset);
                    segment.Attachment.Write(offset, v + 1);
                }
            }));
        }

        workers.ForEach(w => w.Start());
        workers.ForEach(w => Assert.True(w.Join(TimeSpan.FromSeconds(60))));
        Assert.Equal(threads * iterations, segment.ReadLong(offset));
        Assert.Equal(default(ShmMutexState), mutexes[0].GetState());
        mutexes.ForEach(m => m.Dispose());
    }
}
