using System.Globalization;
using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>The producer's waits for room: synchronous (spin, then futex) and asynchronous (FutexWaitThread).</summary>
public sealed partial class ShmQueueProducer
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

        return WaitToReserveSlowAsync(length, deadline, cancellationToken);
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

        return EnqueueSlowAsync(message, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask EnqueueSlowAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        CountFullWaitGated();
        while (!TryEnqueue(message.Span))
        {
            await WaitToReserveSlowAsync(message.Length, MonotonicClock.Infinite, cancellationToken).ConfigureAwait(false);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WaitToReserveSlowAsync(int length, long deadline, CancellationToken cancellationToken)
    {
        CancellationToken token = cancellationToken.CanBeCanceled ? cancellationToken : DisposeToken();
        while (true)
        {
            AsyncWaitTicket ticket = BeginAsyncWait(length, deadline);
            if (ticket.Ready)
            {
                return true;
            }

            FutexWaitResult result;
            try
            {
                result = await QueueAsyncWait.Start(_ring, ticket, deadline, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && _gate.IsDisposed)
            {
                throw new ObjectDisposedException(nameof(ShmQueueProducer));
            }
            finally
            {
                EndAsyncWait(ticket);
            }

            if (result == FutexWaitResult.TimedOut)
            {
                return SpinForRoom(length, spin: false);
            }
        }
    }

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
