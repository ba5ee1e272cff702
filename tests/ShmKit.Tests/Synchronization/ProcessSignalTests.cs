using System.Globalization;

namespace ShmKit.Tests.Synchronization;

/// <summary>SIGUSR1 as a doorbell between .NET processes (ProcessSignalNotifier / ProcessSignalListener).</summary>
public class ProcessSignalTests
{
    private static readonly TimeSpan s_generous = TimeSpan.FromSeconds(30);

    [Fact]
    public void A_Listener_Process_Is_Woken_By_SIGUSR1_From_Two_Other_Processes_And_Survives()
    {
        using var listener = ChildProcess.StartChild("signal-listen", "3");
        int pid = int.Parse(listener.WaitForLine("READY").Split(' ')[1], CultureInfo.InvariantCulture);

        ProcessSignalNotifier.Send(pid);
        listener.WaitForLine("GOT 1");

        using (var sender = ChildProcess.StartChild("signal-send", pid.ToString(CultureInfo.InvariantCulture)))
        {
            Assert.Equal(0, sender.WaitForExit(s_generous));
        }

        listener.WaitForLine("GOT 2");
        ProcessSignalNotifier.Send(pid, NotificationSignal.User1);
        listener.WaitForLine("GOT 3");
        Assert.Equal(0, listener.WaitForExit(s_generous));
        Assert.Contains("RECEIVED 3", listener.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_A_Listener_SIGUSR1_Terminates_The_Process()
    {
        // The default action of SIGUSR1 is termination: a receiver must listen before its pid is published,
        // and stops being safe to signal once its listener is disposed.
        using (var plain = ChildProcess.StartChild("hang"))
        {
            plain.WaitForLine("READY");
            ProcessSignalNotifier.Send(plain.Id);
            Assert.Equal(128 + 10, plain.WaitForExit(s_generous));
        }

        using var disposed = ChildProcess.StartChild("signal-disposed");
        disposed.WaitForLine("READY");
        ProcessSignalNotifier.Send(disposed.Id);
        Assert.Equal(128 + 10, disposed.WaitForExit(s_generous));
        Assert.DoesNotContain("SURVIVED", disposed.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_Targets_Are_Specific_Exceptions()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ProcessSignalNotifier.Send(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ProcessSignalNotifier.Send(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ProcessSignalNotifier.Send(1, (NotificationSignal)9));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProcessSignalListener((NotificationSignal)15));
        Assert.Throws<ArgumentException>(() => ProcessSignalNotifier.Send(int.MaxValue));
    }

    [Fact]
    public async Task Listener_Wait_Times_Out_And_Is_Cancellable()
    {
        using var listener = new ProcessSignalListener(NotificationSignal.User2);
        Assert.False(listener.Wait(TimeSpan.FromMilliseconds(50)));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => listener.Wait(Timeout.InfiniteTimeSpan, cts.Token));

        // In-process round trip: this test host signals itself while it listens.
        ProcessSignalNotifier.Send(ProcessSignalListener.ProcessId, NotificationSignal.User2);
        Assert.True(await listener.WaitAsync(s_generous));
        Assert.Equal(1, listener.ReceivedCount);
    }
    [Fact]
    public async Task Dispose_Wakes_Every_Waiter_With_ObjectDisposedException()
    {
        var listener = new ProcessSignalListener(NotificationSignal.User2);
        using var started = new CountdownEvent(2);
        var blocking = Task.Factory.StartNew(
            () =>
            {
                started.Signal();
                return listener.Wait(Timeout.InfiniteTimeSpan);
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        using var cts = new CancellationTokenSource();
        var cancellable = Task.Run(() =>
        {
            started.Signal();
            return listener.Wait(Timeout.InfiniteTimeSpan, cts.Token);
        });
        Assert.True(started.Wait(s_generous));
        var asynchronous = listener.WaitAsync(Timeout.InfiniteTimeSpan);

        // Give the waiters a chance to block (if one has not yet, it must still end with ObjectDisposedException).
        Thread.Sleep(100);
        listener.Dispose();

        // A hang guard, not a timing assert: before the fix these waits never returned.
        var all = Task.WhenAll(blocking, cancellable, asynchronous);
        Assert.Same(all, await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(10))));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => blocking);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => cancellable);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => asynchronous);
        Assert.Throws<ObjectDisposedException>(() => listener.Wait(TimeSpan.Zero));
    }
}
