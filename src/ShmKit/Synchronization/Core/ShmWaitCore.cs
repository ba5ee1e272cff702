namespace ShmKit;

/// <summary>
/// The waiting core every ShmKit primitive uses (the mutex, the event, the semaphore; the reader-writer lock, the
/// condition variable and the seqlock build on it too): one loop that tries the operation, spins per
/// <see cref="ShmWaitStrategy"/>, watches the owner the wait depends on, sleeps on the futex word with an absolute
/// deadline and the caller's token, and cleans up on every way out. The primitive supplies the state machine of its
/// words as an <see cref="IShmWaitOperation"/> struct.
/// </summary>
/// <remarks>
/// <para><b>Blocking strategies</b> (SpinThenBlock, Block): spin (loads only, SpinPolicy, not while a waiter is
/// parked), then per round: the owner's watch (LivenessMonitor through the thread's <see cref="FutexInterrupt"/>,
/// armed before the sleep so that a death in between is not lost), register as a sleeper, Futex.Wait on the value
/// decided, unregister. Cancellation wakes the sleeper through its interrupt word (futex_waitv), never by polling;
/// the deadline is the kernel's absolute timeout. A blocked waiter makes no wake-ups while nothing happens.</para>
/// <para><b>Spinning strategies</b> (SpinThenYield, BusySpin) never sleep in the kernel: they check the deadline, the
/// token and the owner's watch every 16 steps.</para>
/// <para><b>Async</b> (<see cref="WaitAsync"/>): the spin runs synchronously on the caller's thread
/// (<see cref="TrySpin"/>, at most one spin phase whatever the strategy: an async wait never occupies a thread-pool
/// thread with spinning), then each sleep is a registration with <see cref="FutexWaitThread"/>, whose shared waiter
/// thread watches the owner too. The state machines come from a pool.</para>
/// </remarks>
internal static unsafe partial class ShmWaitCore
{
    private const int SpinningCheckInterval = 16;

    /// <summary>
    /// Waits until <paramref name="op"/> completes (true) or <paramref name="deadline"/> passes (false).
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    internal static bool Wait<TOp>(ref TOp op, ShmWaitStrategy strategy, long deadline, CancellationToken cancellationToken)
        where TOp : struct, IShmWaitOperation
    {
        bool completed = false;
        try
        {
            completed = op.TryComplete();
            if (completed || (deadline != MonotonicClock.Infinite && MonotonicClock.Now >= deadline))
            {
                return completed; // a zero timeout does not spin
            }

            completed = (strategy is ShmWaitStrategy.SpinThenBlock or ShmWaitStrategy.Block
                ? WaitBlocking(ref op, strategy, deadline, cancellationToken)
                : WaitSpinning(ref op, strategy, deadline, cancellationToken));
            return completed;
        }
        finally
        {
            if (!completed)
            {
                op.Leave();
            }
        }
    }

    /// <summary>
    /// The synchronous start of an async wait: one spin phase (none for Block, or when the deadline has passed). True when the operation completed;
    /// otherwise call <see cref="WaitAsync"/> (nothing to undo).
    /// </summary>
    internal static bool TrySpin<TOp>(ref TOp op, ShmWaitStrategy strategy, long deadline)
        where TOp : struct, IShmWaitOperation
    {
        if (op.TryComplete())
        {
            return true;
        }

        if (strategy == ShmWaitStrategy.Block || (deadline != MonotonicClock.Infinite && MonotonicClock.Now >= deadline))
        {
            return false;
        }

        SpinPolicy spin = SpinPolicy.Start(ShmWaitStrategy.SpinThenBlock);
        while (op.SpinIsUseful && spin.SpinOnce())
        {
            if (op.TryComplete())
            {
                return true;
            }
        }

        return false;
    }

    private static bool WaitBlocking<TOp>(ref TOp op, ShmWaitStrategy strategy, long deadline, CancellationToken cancellationToken)
        where TOp : struct, IShmWaitOperation
    {
        SpinPolicy spin = SpinPolicy.Start(strategy);
        while (op.SpinIsUseful && spin.SpinOnce())
        {
            if (op.TryComplete())
            {
                return true;
            }
        }

        var watcher = new OwnerWatcher();
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (deadline != MonotonicClock.Infinite && MonotonicClock.Now >= deadline)
                {
                    return false;
                }

                WatchTarget target = op.GetWatchTarget();
                if (target.Kind == WatchTargetKind.Dead)
                {
                    watcher.Recover(ref op, target);
                    if (op.TryComplete())
                    {
                        return true;
                    }

                    continue;
                }

                watcher.Follow(target);
                if (!op.BeginSleep(out int* word, out int expected))
                {
                    if (op.TryComplete())
                    {
                        return true;
                    }

                    continue;
                }

                FutexWaitResult result;
                try
                {
                    result = Futex.Wait(word, expected, deadline, cancellationToken);
                }
                finally
                {
                    op.EndSleep();
                }

                switch (result)
                {
                    case FutexWaitResult.Interrupted:
                        watcher.Fired(ref op);
                        break;
                    case FutexWaitResult.TimedOut:
                        return op.TryComplete(); // the state once more, then time out
                    case FutexWaitResult.Cancelled:
                        throw new OperationCanceledException(cancellationToken);
                }

                if (op.TryComplete())
                {
                    return true;
                }
            }
        }
        finally
        {
            watcher.Dispose();
        }
    }

    private static bool WaitSpinning<TOp>(ref TOp op, ShmWaitStrategy strategy, long deadline, CancellationToken cancellationToken)
        where TOp : struct, IShmWaitOperation
    {
        SpinPolicy spin = SpinPolicy.Start(strategy);
        var watcher = new OwnerWatcher();
        try
        {
            for (int step = 1; ; step++)
            {
                spin.SpinOnce();
                if (op.TryComplete())
                {
                    return true;
                }

                if (step % SpinningCheckInterval != 0)
                {
                    continue;
                }

                cancellationToken.ThrowIfCancellationRequested();
                if (deadline != MonotonicClock.Infinite && MonotonicClock.Now >= deadline)
                {
                    return false;
                }

                WatchTarget target = op.GetWatchTarget();
                if (target.Kind == WatchTargetKind.Dead)
                {
                    watcher.Recover(ref op, target);
                    continue;
                }

                watcher.Follow(target);
                if (watcher.HasFired)
                {
                    watcher.Fired(ref op);
                }
            }
        }
        finally
        {
            watcher.Dispose();
        }
    }

    /// <summary>
    /// The liveness watch of one synchronous wait: follows the owner the operation depends on (a new watch when the
    /// owner changes), forgets owners that cannot be judged. A value on the waiter's stack.
    /// </summary>
    private struct OwnerWatcher : IDisposable
    {
        private LivenessWatch? _watch;
        private WatchTarget _watched;
        private int _unwatchable; // the key of an owner whose watch fired but who was not confirmed dead

        internal readonly bool HasFired => _watch is { HasFired: true };

        /// <summary>Watches <paramref name="target"/> (Kind Process), or nothing (None, or an unwatchable owner).</summary>
        internal void Follow(in WatchTarget target)
        {
            if (target.Kind != WatchTargetKind.Process || target.Key == _unwatchable)
            {
                Stop();
                return;
            }

            if (_watch is not null && _watched.Key == target.Key && _watched.Process == target.Process)
            {
                return;
            }

            Stop();
            _watch = LivenessMonitor.Watch(target.Process, target.Token, FutexInterrupt.Current);
            _watched = target;
        }

        /// <summary>The watch fired (the sleep was interrupted): confirm and recover, or stop watching that owner.</summary>
        internal void Fired<TOp>(ref TOp op)
            where TOp : struct, IShmWaitOperation
        {
            WatchTarget target = _watched;
            Stop();
            if (target.Kind == WatchTargetKind.Process && !op.OnOwnerGone(target))
            {
                _unwatchable = target.Key;
            }
        }

        /// <summary>The owner is dead without a watch (its slot moved on).</summary>
        internal void Recover<TOp>(ref TOp op, in WatchTarget target)
            where TOp : struct, IShmWaitOperation
        {
            Stop();
            if (!op.OnOwnerGone(target))
            {
                _unwatchable = target.Key;
            }
        }

        public void Dispose() => Stop();

        private void Stop()
        {
            _watch?.Dispose();
            _watch = null;
            _watched = default;
        }
    }
}
