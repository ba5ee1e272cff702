using System.Globalization;

namespace ShmKit;

/// <summary>The consumer's waits for a message: synchronous (spin, then futex) and asynchronous (FutexWaitThread).</summary>
public sealed partial class ShmQueueConsumer : IQueueAsyncSide<bool>, IQueueAsyncSide<int>
{
    /// <summary>Takes the next message, waiting for one (gate entered; on return a message is in flight).</summary>
    private unsafe void ReceiveCore(long deadline, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (TryReceiveCore(false, deadline, cancellationToken, out _))
        {
            return;
        }

        CountEmptyWait();
        SpinPolicy spin = SpinPolicy.Start(_strategy);
        long* word = NotEmpty;
        while (true)
        {
            ThrowIfStopped(deadline, timeout, cancellationToken);
            bool ready = false;
            while (!(ready = Probe()) && spin.SpinOnce())
            {
                ThrowIfStopped(deadline, timeout, cancellationToken);
            }

            if (ready && TryReceiveCore(false, deadline, cancellationToken, out _))
            {
                return;
            }

            if (ready)
            {
                continue;
            }

            int epoch = EventCount.PrepareWait(word);
            try
            {
                // Re-check after registering (pairs with the producer's fence before it reads the count); in MPMC mode
                // also judge the owner of a record that holds the queue up, and repair what a dead one left.
                if (TryReceiveCore(true, deadline, cancellationToken, out int blocker))
                {
                    return;
                }

                int watch = blocker;
                if (_mpmc && watch == 0)
                {
                    watch = MpmcRecovery.RecoverHead(_ring, deadline, cancellationToken);
                }

                if (Probe())
                {
                    continue;
                }

                Sleep(word, epoch, watch, deadline, cancellationToken);
            }
            finally
            {
                EventCount.CancelWait(word, epoch);
            }
        }
    }

    /// <summary>Sleeps on an eventcount's epoch until woken, the deadline, cancellation, the watched owner's death, or Dispose.</summary>
    private unsafe void Sleep(long* word, int epoch, int watchOwner, long deadline, CancellationToken cancellationToken)
    {
        FutexInterrupt interrupt = FutexInterrupt.Current;
        Interlocked.Exchange(ref _sleeper, interrupt);
        interrupt.Arm(); // full fence between publishing _sleeper and reading _disposed (Dispose: the reverse)
        try
        {
            if (_gate.IsDisposed)
            {
                return;
            }

            using LivenessWatch? watch = watchOwner != 0 ? _ring.Participants.Watch(watchOwner) : null;
            if (Futex.Wait(EventCount.EpochWord(word), epoch, deadline, cancellationToken) == FutexWaitResult.Cancelled)
            {
                throw new OperationCanceledException(cancellationToken);
            }
        }
        finally
        {
            interrupt.Disarm();
            Interlocked.Exchange(ref _sleeper, null);
        }
    }

    private void ThrowIfStopped(long deadline, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_gate.IsDisposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (deadline != MonotonicClock.Infinite && MonotonicClock.Now >= deadline)
        {
            throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                $"No message arrived in the queue '{_ring.Name}' within {timeout?.TotalMilliseconds ?? 0:0} ms."));
        }
    }

    private unsafe void CountEmptyWait()
    {
        long* c = Counter(QueueLayout.EmptyWaitsOffset);
        if (_mpmc)
        {
            Interlocked.Increment(ref *c);
        }
        else
        {
            *c += 1;
        }
    }

    /// <summary>
    /// Completes when a message may be received (true) or at the timeout (false), without blocking a thread: a short
    /// spin on the caller's thread, then a wait registered with the shared futex waiter thread (no wake-ups while
    /// idle). Then call <see cref="TryReceive(out ShmQueueReadLease)"/>; in MPMC mode another consumer may have taken
    /// the message, so loop.
    /// </summary>
    /// <param name="timeout">How long to wait; null waits as long as it takes.</param>
    /// <param name="cancellationToken">Ends the wait with <see cref="OperationCanceledException"/>.</param>
    /// <returns>True when a message is there, false at the timeout.</returns>
    /// <exception cref="ObjectDisposedException">The consumer was disposed (also while waiting, when no cancellable token was given).</exception>
    public ValueTask<bool> WaitToReceiveAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        long deadline = MonotonicClock.DeadlineAfter(timeout);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        if (SpinForMessage(spin: true))
        {
            return new ValueTask<bool>(true);
        }

        CountEmptyWaitGated();
        return QueueAsync.Run<ShmQueueConsumer, bool>(this, new QueueAsyncRequest(false, 0, default, default), deadline, cancellationToken);
    }

    /// <summary>Copies the next message into <paramref name="destination"/>, waiting for one asynchronously.</summary>
    /// <param name="destination">Where to copy it; too short → <see cref="ArgumentException"/> and the message stays in the queue.</param>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns>The message's length.</returns>
    public ValueTask<int> ReceiveAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (TryReceive(destination.Span, out int length))
        {
            return new ValueTask<int>(length);
        }

        CountEmptyWaitGated();
        return QueueAsync.Run<ShmQueueConsumer, int>(this, new QueueAsyncRequest(true, 0, default, destination), MonotonicClock.Infinite, cancellationToken);
    }

    QueueRing IQueueAsyncSide<bool>.Ring => _ring;

    bool IQueueAsyncSide<bool>.IsDisposed => _gate.IsDisposed;

    bool IQueueAsyncSide<bool>.TryFinish(in QueueAsyncRequest request, out bool result) => result = SpinForMessage(spin: false);

    bool IQueueAsyncSide<bool>.TimedOut() => false;

    AsyncWaitTicket IQueueAsyncSide<bool>.BeginAsyncWait(in QueueAsyncRequest request, long deadline) => BeginAsyncWait(deadline);

    void IQueueAsyncSide<bool>.EndAsyncWait(in AsyncWaitTicket ticket) => EndAsyncWait(ticket);

    CancellationToken IQueueAsyncSide<bool>.DisposeToken() => DisposeToken();

    ObjectDisposedException IQueueAsyncSide<bool>.Disposed() => new(nameof(ShmQueueConsumer));

    QueueRing IQueueAsyncSide<int>.Ring => _ring;

    bool IQueueAsyncSide<int>.IsDisposed => _gate.IsDisposed;

    bool IQueueAsyncSide<int>.TryFinish(in QueueAsyncRequest request, out int result) => TryReceive(request.Destination.Span, out result);

    int IQueueAsyncSide<int>.TimedOut() => 0;

    AsyncWaitTicket IQueueAsyncSide<int>.BeginAsyncWait(in QueueAsyncRequest request, long deadline) => BeginAsyncWait(deadline);

    void IQueueAsyncSide<int>.EndAsyncWait(in AsyncWaitTicket ticket) => EndAsyncWait(ticket);

    CancellationToken IQueueAsyncSide<int>.DisposeToken() => DisposeToken();

    ObjectDisposedException IQueueAsyncSide<int>.Disposed() => new(nameof(ShmQueueConsumer));

    /// <summary>Probes for a message, spinning first (not for Block): the synchronous prelude of the async waits.</summary>
    private bool SpinForMessage(bool spin)
    {
        Enter();
        try
        {
            SpinPolicy policy = SpinPolicy.Start(_strategy == ShmWaitStrategy.Block ? ShmWaitStrategy.Block : ShmWaitStrategy.SpinThenBlock);
            while (true)
            {
                if (Probe())
                {
                    return true;
                }

                if (!spin || !policy.SpinOnce())
                {
                    return false;
                }
            }
        }
        finally
        {
            Exit();
        }
    }

    private unsafe AsyncWaitTicket BeginAsyncWait(long deadline)
    {
        Enter();
        try
        {
            long* word = NotEmpty;
            int epoch = EventCount.PrepareWait(word);
            if (Probe())
            {
                EventCount.CancelWait(word, epoch);
                return AsyncWaitTicket.ReadyNow;
            }

            int watch = 0;
            if (_mpmc)
            {
                watch = BlockingOwner(deadline);
                if (Probe())
                {
                    EventCount.CancelWait(word, epoch);
                    return AsyncWaitTicket.ReadyNow;
                }
            }
            else
            {
                PublishSpsc(); // going idle: give back what was released
            }

            return new AsyncWaitTicket((nint)word, epoch, watch);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>MPMC: the live owner holding the queue up (the producer of the record at readCursor, or the consumer of the record at head), after repairing dead ones.</summary>
    private int BlockingOwner(long deadline) => MpmcRecovery.RecoverHead(_ring, deadline, default);

    private unsafe void EndAsyncWait(in AsyncWaitTicket ticket)
    {
        if (_gate.IsBusy)
        {
            return; // misused concurrently: the registration is dropped by the next wake
        }

        if (!_gate.Enter(out bool shutdown))
        {
            if (shutdown)
            {
                Shutdown();
            }

            return;
        }

        EventCount.CancelWait((long*)ticket.Word, ticket.Epoch);
        Exit();
    }

    private void CountEmptyWaitGated()
    {
        Enter();
        try
        {
            CountEmptyWait();
        }
        finally
        {
            Exit();
        }
    }

    private CancellationToken DisposeToken()
    {
        CancellationTokenSource? source = Volatile.Read(ref _disposeSource);
        if (source is null)
        {
            var created = new CancellationTokenSource();
            source = Interlocked.CompareExchange(ref _disposeSource, created, null) ?? created;
            if (_gate.IsDisposed)
            {
                source.Cancel();
            }
        }

        return source.Token;
    }
}
