using System.Globalization;

namespace ShmKit;

/// <summary>The producer's waits for room: synchronous (spin, then futex) and asynchronous (FutexWaitThread).</summary>
public sealed partial class ShmQueueProducer : IQueueAsyncSide<bool>
{
    /// <summary>
    /// Waits until <paramref name="length"/> bytes can be reserved (room, one-line probes while spinning; then the
    /// NOT-FULL eventcount), then reserves them. Throws on fail-fast, timeout, cancellation or Dispose.
    /// </summary>
    private unsafe bool WaitAndReserve(int length, long deadline, TimeSpan? timeout, CancellationToken cancellationToken, out ShmQueueWriteLease lease)
    {
        if (_fullMode == ShmQueueFullMode.Fail)
        {
            throw FullException(length);
        }

        CountFullWait();
        SpinPolicy spin = SpinPolicy.Start(_strategy);
        long* word = NotFull;
        while (true)
        {
            ThrowIfStopped(deadline, timeout, cancellationToken);
            if (TryReserveCore(length, deadline, cancellationToken, out lease))
            {
                return true;
            }

            bool room = false;
            while (!(room = ProbeRoom(length)) && spin.SpinOnce())
            {
                ThrowIfStopped(deadline, timeout, cancellationToken);
            }

            if (room)
            {
                continue;
            }

            int epoch = EventCount.PrepareWait(word);
            int watch = 0;
            try
            {
                if (ProbeRoom(length))
                {
                    continue;
                }

                if (_mpmc)
                {
                    watch = MpmcRecovery.RecoverHead(_ring, deadline, cancellationToken);
                    if (ProbeRoom(length))
                    {
                        continue;
                    }
                }

                Sleep(word, epoch, watch, deadline, cancellationToken);
            }
            finally
            {
                EventCount.CancelWait(word, epoch);
            }
        }
    }

    /// <summary>
    /// Sleeps on an eventcount's epoch until woken, the deadline, cancellation, the watched owner's death, or
    /// Dispose (which signals this thread's interrupt: private memory, no shared word is touched).
    /// </summary>
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

    private ShmQueueFullException FullException(int length)
    {
        long free = FreeBytes();
        return new ShmQueueFullException(
            string.Create(CultureInfo.InvariantCulture,
                $"The queue '{_ring.Name}' is full: a message of {length} bytes does not fit ({free} of {_capacity} ring bytes free) and the producer fails fast (ShmQueueFullMode.Fail)."),
            _ring.Site.Key, _ring.Site.Id, length, free);
    }

    private void ThrowIfStopped(long deadline, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_gate.IsDisposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (deadline != MonotonicClock.Infinite && MonotonicClock.Now >= deadline)
        {
            throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                $"The queue '{_ring.Name}' had no room within {timeout?.TotalMilliseconds ?? 0:0} ms: the consumer did not release enough messages."));
        }
    }

    private unsafe void CountFullWait()
    {
        long* c = Counter(QueueLayout.FullWaitsOffset);
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
    /// Completes when a message of <paramref name="length"/> bytes fits (true) or at the timeout (false), without
    /// blocking a thread: a short spin on the caller's thread, then a wait registered with the shared futex waiter
    /// thread. Then call <see cref="TryReserve"/> (another producer may have taken the room in MPMC mode: loop).
    /// </summary>
    /// <param name="length">The message's length: 0..<see cref="MaxMessageLength"/>.</param>
    /// <param name="timeout">How long to wait; null waits as long as it takes.</param>
    /// <param name="cancellationToken">Ends the wait with <see cref="OperationCanceledException"/>.</param>
    /// <returns>True when there is room, false at the timeout.</returns>
    /// <exception cref="ObjectDisposedException">The producer was disposed (also while waiting, when no cancellable token was given).</exception>
    public ValueTask<bool> WaitToReserveAsync(int length, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        CheckLength(length);
        long deadline = MonotonicClock.DeadlineAfter(timeout);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        if (SpinForRoom(length))
        {
            return new ValueTask<bool>(true);
        }

        CountFullWaitGated();
        return QueueAsync.Run<ShmQueueProducer, bool>(this, new QueueAsyncRequest(false, length, default, default), deadline, cancellationToken);
    }

    /// <summary>Copies <paramref name="message"/> into the ring and publishes it, waiting for room asynchronously (or failing fast).</summary>
    /// <param name="message">The message (0..<see cref="MaxMessageLength"/> bytes).</param>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns>Completes when the message is in the ring.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The message can never fit this queue.</exception>
    /// <exception cref="ShmQueueFullException">The ring is full and <see cref="FullMode"/> is Fail.</exception>
    public ValueTask EnqueueAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        CheckLength(message.Length);
        if (TryEnqueue(message.Span))
        {
            return ValueTask.CompletedTask;
        }

        if (_fullMode == ShmQueueFullMode.Fail)
        {
            Enter();
            try
            {
                return ValueTask.FromException(FullException(message.Length));
            }
            finally
            {
                Exit();
            }
        }

        CountFullWaitGated();
        return QueueAsync.RunVoid(this, new QueueAsyncRequest(true, message.Length, message, default), MonotonicClock.Infinite, cancellationToken);
    }

    QueueRing IQueueAsyncSide<bool>.Ring => _ring;

    bool IQueueAsyncSide<bool>.IsDisposed => _gate.IsDisposed;

    bool IQueueAsyncSide<bool>.TryFinish(in QueueAsyncRequest request, out bool result)
    {
        result = true;
        return request.Copy ? TryEnqueue(request.Message.Span) : SpinForRoom(request.Length, spin: false);
    }

    bool IQueueAsyncSide<bool>.TimedOut() => false;

    AsyncWaitTicket IQueueAsyncSide<bool>.BeginAsyncWait(in QueueAsyncRequest request, long deadline) => BeginAsyncWait(request.Length, deadline);

    void IQueueAsyncSide<bool>.EndAsyncWait(in AsyncWaitTicket ticket) => EndAsyncWait(ticket);

    CancellationToken IQueueAsyncSide<bool>.DisposeToken() => DisposeToken();

    ObjectDisposedException IQueueAsyncSide<bool>.Disposed() => new(nameof(ShmQueueProducer));

    /// <summary>Probes for room, spinning first (not for Block): the synchronous prelude of the async waits.</summary>
    private bool SpinForRoom(int length, bool spin = true)
    {
        Enter();
        try
        {
            SpinPolicy policy = SpinPolicy.Start(_strategy == ShmWaitStrategy.Block ? ShmWaitStrategy.Block : ShmWaitStrategy.SpinThenBlock);
            while (true)
            {
                if (ProbeRoom(length))
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

    private unsafe AsyncWaitTicket BeginAsyncWait(int length, long deadline)
    {
        Enter();
        try
        {
            long* word = NotFull;
            int epoch = EventCount.PrepareWait(word);
            if (ProbeRoom(length))
            {
                EventCount.CancelWait(word, epoch);
                return AsyncWaitTicket.ReadyNow;
            }

            int watch = _mpmc ? MpmcRecovery.RecoverHead(_ring, deadline, default) : 0;
            if (ProbeRoom(length))
            {
                EventCount.CancelWait(word, epoch);
                return AsyncWaitTicket.ReadyNow;
            }

            return new AsyncWaitTicket((nint)word, epoch, watch);
        }
        finally
        {
            Exit();
        }
    }

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

    private void CountFullWaitGated()
    {
        Enter();
        try
        {
            CountFullWait();
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
