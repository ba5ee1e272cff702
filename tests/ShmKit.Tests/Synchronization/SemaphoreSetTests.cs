using System.Globalization;

namespace ShmKit.Tests.Synchronization;

/// <summary>SemaphoreSet in one process: values, control commands, errors, timeouts, cancellation, removal.</summary>
public class SemaphoreSetTests
{
    private static readonly TimeSpan s_generous = TimeSpan.FromSeconds(5);

    [Fact]
    public void CreateNew_Sets_Values_Marks_Initialized_And_Stat_Reports_Every_Field()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        var set = SemaphoreSet.CreateNew(key, [2, 0, 32767]);
        Assert.True(set.WasCreated);
        Assert.Equal(3, set.Count);
        Assert.Equal(key, set.Key);
        Assert.Equal([2, 0, 32767], set.GetValues());

        var info = set.Stat();
        Assert.Equal(key, info.Key);
        Assert.Equal(set.Id, info.Id);
        Assert.Equal(SemaphoreSet.DefaultMode, info.Mode);
        Assert.Equal(3, info.Count);
        Assert.Equal(0u, info.OwnerUserId); // tests run as root, see the permission test
        Assert.Equal(info.OwnerUserId, info.CreatorUserId);
        Assert.Equal(info.OwnerGroupId, info.CreatorGroupId);
        Assert.NotNull(info.LastOperationTime); // the publishing semop
        Assert.NotNull(info.LastChangeTime);

        // The publishing semop left every value as it was, including one at SEMVMX.
        Assert.Equal(32767, set.GetValue(2));
        Assert.Equal(Environment.ProcessId, set.GetLastProcessId(0));

        Assert.Throws<IpcObjectExistsException>(() => SemaphoreSet.CreateNew(key, [1]));
        var opened = SemaphoreSet.Open(key);
        Assert.False(opened.WasCreated);
        Assert.Equal(set.Id, opened.Id);
        Assert.Equal(3, opened.Count);
        Assert.Equal(3, SemaphoreSet.OpenById(set.Id).Count);
        Assert.Contains(SemaphoreSet.GetAll(), s => s.Id == set.Id && s.Key == key && s.Count == 3);

        set.Remove();
        Assert.Throws<IpcObjectRemovedException>(() => set.Stat());
        Assert.Throws<IpcObjectNotFoundException>(() => SemaphoreSet.Open(key));
        Assert.Throws<IpcObjectNotFoundException>(() => SemaphoreSet.OpenById(set.Id));
        Assert.Throws<IpcObjectNotFoundException>(() => SemaphoreSet.Remove(set.Id));
    }

    [Fact]
    public void Wait_Release_TryWait_WaitForZero_And_Apply()
    {
        var set = SemaphoreSet.CreatePrivate([1, 0]);
        try
        {
            Assert.True(set.Key.IsPrivate);
            set.Wait(0);
            Assert.Equal(0, set.GetValue(0));
            Assert.False(set.TryWait(0));
            set.WaitForZero(0, TimeSpan.Zero);
            set.Release(0);
            Assert.True(set.TryWait(0));
            set.Release(0);

            set.Release(1, 5, undo: false);
            set.Wait(1, 3, s_generous, undo: false);
            Assert.Equal(2, set.GetValue(1));

            // All or nothing: the second operation cannot happen, so neither does the first.
            Assert.False(set.TryApply([new SemaphoreOperation(0, -1), new SemaphoreOperation(1, -3, Undo: false)]));
            Assert.Equal([1, 2], set.GetValues());
            set.Apply([new SemaphoreOperation(0, -1), new SemaphoreOperation(1, -2, Undo: false)], s_generous);
            Assert.Equal([0, 0], set.GetValues());
            Assert.Throws<TimeoutException>(() => set.Apply([new SemaphoreOperation(0, -1, NoWait: true)]));
            set.Release(0);

            set.SetValue(1, 9);
            Assert.Equal(9, set.GetValue(1));
            set.SetValues([4, 5]);
            Assert.Equal([4, 5], set.GetValues());
            Assert.Equal(0, set.GetWaitingForIncreaseCount(0));
            Assert.Equal(0, set.GetWaitingForZeroCount(0));

            using (set.Lock(0, s_generous))
            {
                Assert.Equal(3, set.GetValue(0));
            }

            Assert.Equal(4, set.GetValue(0));
        }
        finally
        {
            set.Remove();
        }
    }

    [Fact]
    public void Bad_Arguments_Are_Specific_Exceptions()
    {
        var set = SemaphoreSet.CreatePrivate([0, 0]);
        try
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => set.Wait(2));
            Assert.Equal("index", e.ParamName);
            Assert.Contains("index 2", e.Message, StringComparison.Ordinal);
            Assert.Contains("2 semaphores", e.Message, StringComparison.Ordinal);
            Assert.Throws<ArgumentOutOfRangeException>(() => set.Release(-1));
            Assert.Throws<ArgumentOutOfRangeException>(() => set.GetValue(5));
            Assert.Throws<ArgumentOutOfRangeException>(() => set.Wait(0, 0));
            Assert.Throws<ArgumentOutOfRangeException>(() => set.Wait(0, 1, TimeSpan.FromSeconds(-2)));
            Assert.Throws<ArgumentOutOfRangeException>(() => set.SetValue(0, 32768));
            Assert.Throws<ArgumentException>(() => set.SetValues([1]));
            Assert.Throws<ArgumentException>(() => set.Apply([]));
            Assert.Throws<ArgumentException>(() => SemaphoreSet.CreatePrivate([]));
            Assert.Throws<ArgumentOutOfRangeException>(() => SemaphoreSet.CreatePrivate([-1]));
            Assert.Throws<ArgumentException>(() => SemaphoreSet.Open(IpcKey.Private));

            // SEMVMX: the kernel's ERANGE becomes ArgumentOutOfRangeException.
            set.SetValue(0, 32767);
            var range = Assert.Throws<ArgumentOutOfRangeException>(() => set.Release(0, 1, undo: false));
            Assert.Contains("ERANGE", range.Message, StringComparison.Ordinal);

            // More operations than semopm: E2BIG.
            int semopm = SemaphoreSet.GetLimits().MaxOperationsPerCall;
            var many = Enumerable.Range(0, semopm + 1).Select(_ => new SemaphoreOperation(1, 0, Undo: false)).ToArray();
            Assert.Throws<ArgumentException>(() => set.TryApply(many));
        }
        finally
        {
            set.Remove();
        }
    }

    [Fact]
    public void Timeout_Is_TimeoutException_Naming_The_Operation()
    {
        var set = SemaphoreSet.CreatePrivate([0]);
        try
        {
            var e = Assert.Throws<TimeoutException>(() => set.Wait(0, 2, TimeSpan.FromMilliseconds(100)));
            Assert.Contains("wait for 2 on semaphore 0", e.Message, StringComparison.Ordinal);
            Assert.Contains("semtimedop", e.Message, StringComparison.Ordinal);

            set.SetValue(0, 1);
            Assert.Throws<TimeoutException>(() => set.WaitForZero(0, TimeSpan.FromMilliseconds(100)));
            using var cts = new CancellationTokenSource();
            Assert.Throws<TimeoutException>(() => set.WaitForZero(0, TimeSpan.FromMilliseconds(120), cts.Token));
            Assert.Throws<TimeoutException>(() => set.Wait(0, 2, TimeSpan.Zero));
        }
        finally
        {
            set.Remove();
        }
    }

    [Fact]
    public void Blocked_Wait_Is_Cancelled_From_Another_Thread()
    {
        var set = SemaphoreSet.CreatePrivate([0]);
        try
        {
            using var cts = new CancellationTokenSource();
            var waiter = Task.Run(() => set.Wait(0, 1, timeout: null, cts.Token));
            WaitUntil(() => set.GetWaitingForIncreaseCount(0) == 1, "the waiter to block");
            cts.Cancel();
            Assert.True(((IAsyncResult)waiter).AsyncWaitHandle.WaitOne(s_generous), "the cancelled Wait did not return");
            var e = Assert.ThrowsAny<OperationCanceledException>(() => waiter.GetAwaiter().GetResult());
            Assert.Equal(cts.Token, e.CancellationToken);

            // Already cancelled: throws before touching the semaphore.
            Assert.ThrowsAny<OperationCanceledException>(() => set.Wait(0, 1, s_generous, cts.Token));
            Assert.Equal(0, set.GetValue(0));
        }
        finally
        {
            set.Remove();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Set_Removed_While_Waiting_Throws_IpcObjectRemovedException(bool withToken)
    {
        var set = SemaphoreSet.CreatePrivate([0]);
        Task waiter;
        using var cts = new CancellationTokenSource();
        try
        {
            CancellationToken token = withToken ? cts.Token : CancellationToken.None;
            waiter = Task.Run(() => set.Wait(0, 1, TimeSpan.FromSeconds(30), token));
            WaitUntil(() => set.GetWaitingForIncreaseCount(0) == 1, "the waiter to block");
        }
        finally
        {
            set.Remove();
        }

        Assert.True(((IAsyncResult)waiter).AsyncWaitHandle.WaitOne(s_generous), "the waiter did not wake after IPC_RMID");
        var e = Assert.Throws<IpcObjectRemovedException>(() => waiter.GetAwaiter().GetResult());
        Assert.Equal(set.Id, e.Id);
        Assert.Throws<IpcObjectRemovedException>(() => set.Release(0));
        Assert.Throws<IpcObjectRemovedException>(() => set.TryWait(0));
    }

    [Fact]
    public void Open_Of_A_Never_Initialized_Set_Times_Out_With_A_Clear_Message()
    {
        using var cleanup = new IpcCleanup();

        // ipcmk creates a set and never operates on it: sem_otime stays 0, like a creator that died early.
        string output;
        using (var ipcmk = ChildProcess.Start("ipcmk", ["-S", "2", "-p", "0600"]))
        {
            Assert.Equal(0, ipcmk.WaitForExit(s_generous));
            output = ipcmk.StandardOutput;
        }

        int id = int.Parse(output[(output.LastIndexOf(':') + 1)..].Trim(), CultureInfo.InvariantCulture);
        cleanup.AddId('s', id);
        IpcKey key = SemaphoreSet.OpenById(id).Key;
        var e = Assert.Throws<SemaphoreSetNotInitializedException>(() => SemaphoreSet.Open(key, TimeSpan.FromMilliseconds(200)));
        Assert.Contains("no semop happened on it", e.Message, StringComparison.Ordinal);
        Assert.Equal(id, e.Id);
        Assert.Throws<SemaphoreSetNotInitializedException>(() => SemaphoreSet.OpenOrCreate(key, [1, 1], initializationTimeout: TimeSpan.FromMilliseconds(100)));

        // Once anything performs a semop, it counts as initialized.
        SemaphoreSet.OpenById(id).Release(0, 1, undo: false);
        Assert.Equal(id, SemaphoreSet.Open(key, TimeSpan.Zero).Id);
    }

    [Fact]
    public void OpenOrCreate_Checks_The_Size_Of_An_Existing_Set()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        var first = SemaphoreSet.OpenOrCreate(key, [1, 2]);
        Assert.True(first.WasCreated);
        var second = SemaphoreSet.OpenOrCreate(key, [9]);
        Assert.False(second.WasCreated);
        Assert.Equal(2, second.Count);
        Assert.Equal([1, 2], second.GetValues());
        var e = Assert.Throws<IpcSizeException>(() => SemaphoreSet.OpenOrCreate(key, [1, 2, 3]));
        Assert.Contains("2 semaphores", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SetMode_And_Limits()
    {
        var set = SemaphoreSet.CreatePrivate([0]);
        try
        {
            set.SetMode(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, set.Stat().Mode);
            set.SetOwner(0, 0);
            Assert.Throws<ArgumentOutOfRangeException>(() => set.SetMode(UnixFileMode.SetUser));

            var limits = SemaphoreSet.GetLimits();
            Assert.Equal(32767, limits.MaxValue);
            Assert.True(limits.MaxSets > 0 && limits.MaxSemaphoresPerSet > 0 && limits.MaxOperationsPerCall > 0);
            Assert.True(limits.SetsInUse >= 1);
            Assert.True(limits.SemaphoresInUse >= 1);
            Assert.True(limits.HighestIndexInUse >= 0);
        }
        finally
        {
            set.Remove();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_Signal_Interrupting_A_Blocked_Wait_Is_Retried_Not_Surfaced(bool withTimeout)
    {
        // A signal aimed at the waiting thread makes semop fail with EINTR (semop is never restarted); the wait must
        // go on. The listener keeps SIGUSR2 from terminating the test host.
        using var listener = new ProcessSignalListener(NotificationSignal.User2);
        var set = SemaphoreSet.CreatePrivate([0]);
        try
        {
            int tid = 0;
            Exception? failure = null;
            var thread = new Thread(() =>
            {
                Volatile.Write(ref tid, TestInterop.gettid());
                try
                {
                    set.Wait(0, 1, withTimeout ? TimeSpan.FromSeconds(30) : null);
                }
                catch (Exception e)
                {
                    failure = e;
                }
            });
            thread.Start();
            WaitUntil(() => set.GetWaitingForIncreaseCount(0) == 1, "the waiter to block");
            Assert.Equal(0, TestInterop.tgkill(Environment.ProcessId, Volatile.Read(ref tid), (int)NotificationSignal.User2));
            Assert.True(listener.Wait(s_generous), "the signal was not delivered");
            WaitUntil(() => set.GetWaitingForIncreaseCount(0) == 1, "the waiter to block again after EINTR");
            Assert.True(thread.IsAlive);
            set.Release(0, 1);
            Assert.True(thread.Join(s_generous));
            Assert.Null(failure);
            Assert.Equal(0, set.GetValue(0));
        }
        finally
        {
            set.Remove();
        }
    }

    [Fact]
    public void Uncontended_Wait_Release_And_Lock_Allocate_Nothing()
    {
        var set = SemaphoreSet.CreatePrivate([1]);
        try
        {
            using var cts = new CancellationTokenSource();
            void Cycle()
            {
                set.Wait(0);
                set.Release(0);
                set.Wait(0, 1, TimeSpan.FromSeconds(1));
                set.Release(0);
                set.Wait(0, 1, TimeSpan.FromSeconds(1), cts.Token);
                set.Release(0);
                _ = set.TryWait(0);
                set.Release(0);
                using (set.Lock(0, TimeSpan.FromSeconds(1)))
                {
                }
            }

            Cycle(); // JIT and tiering first
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++)
            {
                Cycle();
            }

            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        finally
        {
            set.Remove();
        }
    }

    [Fact]
    public void Undo_Adjustment_Is_Bounded_By_Semaem()
    {
        var set = SemaphoreSet.CreatePrivate([0]);
        try
        {
            // Releases with undo and acquires without: this process's adjustment drifts to -32768, the lowest allowed.
            set.Release(0, 32767, undo: true);
            set.Wait(0, 32767, undo: false);
            set.Release(0, 1, undo: true);
            set.Wait(0, 1, undo: false);
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => set.Release(0, 1, undo: true));
            Assert.Contains("semaem", e.Message, StringComparison.Ordinal);
            set.Release(0, 1, undo: false); // without undo there is no adjustment to overflow
            Assert.Equal(1, set.GetValue(0));
        }
        finally
        {
            set.Remove();
        }
    }

    internal static void WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("gave up waiting for " + what);
            }

            Thread.Sleep(5);
        }
    }
    [Fact]
    public void Operations_That_Can_Never_Succeed_Are_Refused_Before_Any_Wait()
    {
        using var cleanup = new IpcCleanup();
        var set = SemaphoreSet.CreatePrivate([32767, 0]);
        cleanup.AddId('s', set.Id);

        // Taking 32768 needs a value above SEMVMX (32767): no semaphore can ever hold it. With a timeout the old
        // code timed out; without one it waited forever.
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => set.Apply([new SemaphoreOperation(0, short.MinValue)], TimeSpan.FromSeconds(1)));
        Assert.Equal("operations", e.ParamName);
        Assert.Contains("32768", e.Message, StringComparison.Ordinal);
        Assert.Contains("SEMVMX", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => set.TryApply([new SemaphoreOperation(1, short.MinValue)]));

        // Two takes of one semaphore in one call add up: 20000 + 20000 > 32767.
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Apply([new SemaphoreOperation(0, -20000), new SemaphoreOperation(0, -20000)], TimeSpan.FromSeconds(1)));

        // Wait-for-zero right after a release of the same semaphore can never see zero.
        var zero = Assert.Throws<ArgumentOutOfRangeException>(() => set.Apply([new SemaphoreOperation(1, 1, Undo: false), new SemaphoreOperation(1, 0)], TimeSpan.FromSeconds(1)));
        Assert.Contains("semaphore 1", zero.Message, StringComparison.Ordinal);

        // Possible combinations still work, and nothing above changed a value.
        Assert.Equal([32767, 0], set.GetValues());
        set.Apply([new SemaphoreOperation(0, -32767, Undo: false), new SemaphoreOperation(0, 32767, Undo: false), new SemaphoreOperation(1, 0)]);
        set.Apply([new SemaphoreOperation(0, -20000, Undo: false), new SemaphoreOperation(0, -12767, Undo: false)]);
        Assert.Equal([0, 0], set.GetValues());
    }
}
