using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ShmKit;

/// <summary>
/// Receives the doorbell that <see cref="ProcessSignalNotifier.Send"/> rings: handles SIGUSR1 or SIGUSR2 in this
/// process (through <see cref="PosixSignalRegistration"/> with the raw signal number) and lets threads wait for it with
/// a timeout and a cancellation token, synchronously or asynchronously.
/// </summary>
/// <remarks>
/// <para><b>How .NET delivers it.</b> The runtime's native signal handler only writes the signal number to a pipe; a
/// runtime thread reads it and calls the registered handler, which sets <see cref="PosixSignalContext.Cancel"/> (so the
/// default action, termination, is skipped) and wakes the waiters. Nothing runs inside the signal handler, so the
/// listener's code may allocate and lock. Blocking system calls in other threads (semop, for example) see EINTR only
/// if the kernel picks them to run the handler; ShmKit retries EINTR everywhere.</para>
/// <para><b>Doorbell semantics.</b> Signals coalesce: several sent before the handler runs arrive as one. A successful
/// <see cref="Wait"/> means "at least one signal since the previous successful wait"; it never reports how many.
/// <see cref="ReceivedCount"/> counts handler runs, which can be fewer than sends. Keep the real state in shared memory
/// and re-read it after each wake-up; also re-read it after a timeout, in case a signal was lost to coalescing.</para>
/// <para><b>Lifetime.</b> Create the listener before publishing this process's id to senders: until it exists, the
/// signal's default action terminates the process. After <see cref="Dispose"/>, a signal that arrives falls back to that
/// default action again (the runtime restores it when the last registration for a signal goes away), so withdraw the
/// published id first. Several listeners for the same signal in one process all wake.</para>
/// </remarks>
public sealed class ProcessSignalListener : IDisposable
{
    private readonly PosixSignalRegistration _registration;

    /// <summary>
    /// One count per handler run not yet consumed by a wait. Never disposed: <see cref="Dispose"/> may run while
    /// waiters are inside it, and it holds no OS resource unless its wait handle is asked for (it never is).
    /// </summary>
    private readonly SemaphoreSlim _pending = new(0, int.MaxValue);

    /// <summary>
    /// Cancelled by <see cref="Dispose"/>: every wait watches its token, so a waiter blocked at that moment wakes and
    /// throws <see cref="ObjectDisposedException"/>. Never disposed, for the same reason as <see cref="_pending"/>
    /// (waiters may still read its token); without timers or links it holds no OS resource.
    /// </summary>
    private readonly CancellationTokenSource _disposing = new();

    private long _received;
    private int _disposed;

    /// <summary>Starts handling <paramref name="signal"/> in this process.</summary>
    /// <param name="signal">SIGUSR1 (default) or SIGUSR2.</param>
    public ProcessSignalListener(NotificationSignal signal = NotificationSignal.User1)
    {
        ProcessSignalNotifier.CheckSignal(signal);
        Signal = signal;
        _registration = PosixSignalRegistration.Create((PosixSignal)(int)signal, OnSignal);
    }

    /// <summary>The signal this listener handles.</summary>
    public NotificationSignal Signal { get; }

    /// <summary>This process's id: what senders pass to <see cref="ProcessSignalNotifier.Send"/>.</summary>
    public static int ProcessId => Environment.ProcessId;

    /// <summary>How many times the handler ran (signals that coalesced count once).</summary>
    public long ReceivedCount => Interlocked.Read(ref _received);

    /// <summary>Waits for the next signal (or returns at once if one arrived since the last successful wait).</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>True when a signal arrived; false on timeout.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The listener was disposed, before or during the wait.</exception>
    public bool Wait(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ValueTask<bool> wait = WaitCore(synchronous: true, timeout, cancellationToken);
        Debug.Assert(wait.IsCompleted, "a synchronous wait completes before it returns");
        return wait.GetAwaiter().GetResult();
    }

    /// <summary>Waits asynchronously for the next signal.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>True when a signal arrived; false on timeout.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The listener was disposed, before or during the wait.</exception>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitCore(synchronous: false, timeout, cancellationToken).AsTask();

    /// <summary>
    /// Stops handling the signal; its default action (terminate) applies again. Every thread waiting in
    /// <see cref="Wait"/> or <see cref="WaitAsync"/> wakes with <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _registration.Dispose();
        _disposing.Cancel();
    }

    /// <summary>
    /// The token a wait watches: disposal, and the caller's token if it can be cancelled (then through a linked
    /// source, which the caller disposes; the common uncancellable case allocates nothing).
    /// </summary>
    private CancellationTokenSource? Link(CancellationToken cancellationToken, out CancellationToken token)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            token = _disposing.Token;
            return null;
        }

        var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
        token = linked.Token;
        return linked;
    }

    /// <summary>
    /// One wait for <see cref="Wait"/> (<paramref name="synchronous"/>: blocks the caller, so the ValueTask is complete
    /// when it returns, and allocates nothing unless it throws) and <see cref="WaitAsync"/>.
    /// </summary>
    private async ValueTask<bool> WaitCore(bool synchronous, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        CancellationTokenSource? linked = Link(cancellationToken, out CancellationToken token);
        try
        {
            bool signalled = synchronous
                ? _pending.Wait(timeout, token)
                : await _pending.WaitAsync(timeout, token).ConfigureAwait(false);
            if (!signalled)
            {
                return false;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ObjectDisposedException(GetType().FullName);
        }
        finally
        {
            linked?.Dispose();
        }

        Drain();
        return true;
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        Interlocked.Increment(ref _received);
        if (Volatile.Read(ref _disposed) == 0)
        {
            _pending.Release();
        }
    }

    private void Drain()
    {
        // Signals that arrived while the waiter was waking are part of this wake-up.
        while (_pending.Wait(0))
        {
        }
    }
}
