using System.Globalization;
using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>
/// A mutex in shared memory that any process attached to the same <see cref="ManagedSegment"/> can lock, found or
/// created by name, robust against a holder that dies. Uncontended, <see cref="Lock"/> plus the holder's Dispose is one
/// CAS and one CAS-release on a word in the segment (plus the holder's count on the handle, which keeps the mapping,
/// and its lease check): no system call, about 2x System.Threading.Lock (docs/PERFORMANCE.md). Contended, it spins briefly, then sleeps on a futex; a release calls FUTEX_WAKE only when a waiter is
/// flagged.
/// </summary>
/// <remarks>
/// <para><b>Ownership</b> belongs to the process (its registration in the segment) plus a lease in the returned
/// <see cref="ShmMutexHolder"/>, not to a thread: a holder may be disposed on any thread, for example after an
/// <c>await</c>. The mutex is not recursive: a thread that locks it twice waits for itself (until its timeout).</para>
/// <para><b>A holder that dies</b> (killed, crashed, or its process exited without disposing) leaves the lock to the
/// next process that asks: a waiter learns of the death from the liveness monitor (a pidfd in the same pid namespace,
/// within milliseconds; the holder's SEM_UNDO token from another pid namespace, within 100 ms) and acquires it. That
/// holder's <see cref="ShmMutexHolder.IsAbandoned"/> is true: the data the lock guards may be half-updated. Check or
/// repair it and call <see cref="ShmMutexHolder.MarkConsistent"/> before disposing the holder. A holder disposed
/// without it leaves the lock <em>not recoverable</em>: every later lock throws
/// <see cref="ShmLockNotRecoverableException"/> until <see cref="ResetNotRecoverable"/> is called (POSIX's
/// EOWNERDEAD/ENOTRECOVERABLE rule). Abandonment is reported through the holder, never by throwing: the lock is
/// acquired either way, and an exception that carries ownership is easy to lose (see docs/ARCHITECTURE.md).</para>
/// <para><b>Waiting</b> follows <see cref="WaitStrategy"/> (default <see cref="ShmWaitStrategy.SpinThenBlock"/>).
/// Timeouts are absolute deadlines in the kernel; cancellation wakes the waiter through its futex at once; a
/// cancelled or timed-out waiter leaves no trace in the lock word. A blocked waiter uses no CPU and has no wake-ups.
/// <see cref="LockAsync"/> never blocks a thread-pool thread: after a short synchronous spin its wait is registered
/// with a shared waiter thread.</para>
/// <para><b>Lifetime.</b> The handle keeps the segment's mapping until it is disposed and no operation or holder
/// through it is in progress, so disposing this handle or the segment never unmaps memory an operation, a sleeping
/// waiter or a holder uses. Disposing this handle does not release a lock held through it: dispose the holder.
/// Disposing the <see cref="ManagedSegment"/> unregisters this process: later operations throw
/// <see cref="ObjectDisposedException"/>, and a lock still held is then treated by other processes as abandoned.</para>
/// <para>Layout (docs/ARCHITECTURE.md, "Synchronization primitives"): a 64-byte StructureHeader of kind Mutex, then
/// the lock word, the sleeper count and the abandonment count.</para>
/// </remarks>
public sealed class ShmMutex : IDisposable
{
    // Body layout (offsets from the body, which follows the 64-byte header):
    //  0  lock word (RobustLockWord): owner id | NOT_RECOVERABLE | INCONSISTENT | ABANDONED | WAITERS. FUTEX WORD.
    //     Writers: lockers (CAS), the holder's release (CAS), recoverers (CAS), MarkConsistent (And), Reset (CAS).
    //     Readers: every locker and inspect (Volatile.Read). See RobustLockWord for the transitions.
    //  4  sleepers: threads (all processes) registered as sleeping on the lock word. Interlocked.Increment before a
    //     sleep, Interlocked.Decrement after it, by the sleeper; read (Volatile) by acquirers and leavers. May be too
    //     high after a sleeper was killed (extra wakes, never a lost one).
    //  8  abandonments: Interlocked.Increment by the waiter that marks the lock abandoned; read by inspect.
    private const int LockWordOffset = 0;
    private const int SleepersOffset = 4;
    private const int AbandonCountOffset = 8;

    private readonly ShmStructureBinding _binding;
    private readonly RobustLockWord _lock;
    private readonly unsafe int* _abandonCount;
    private readonly int _me;

    // Process memory. _nextLease is written only by the thread that just acquired the lock (so holders in this process
    // are serialized by the lock word itself); _heldLease is set by that thread (Volatile.Write) and cleared by the
    // release of the matching holder (Interlocked.CompareExchange), which makes a second Dispose of a holder, or of a
    // copy of it, a no-op.
    private long _nextLease;
    private long _heldLease;

    private unsafe ShmMutex(ShmStructureBinding binding)
    {
        _binding = binding;
        _lock = new RobustLockWord(binding.Word(LockWordOffset), binding.Word(SleepersOffset));
        _abandonCount = binding.Word(AbandonCountOffset);
        _me = binding.Segment.OwnerId;
    }

    /// <summary>The name in the segment's directory.</summary>
    public string Name => _binding.Name;

    /// <summary>The managed segment that holds it.</summary>
    public ManagedSegment Segment => _binding.Segment;

    /// <summary>The offset of its header in the segment.</summary>
    public long Offset => _binding.Offset;

    /// <summary>True when this call created it.</summary>
    public bool WasCreated => _binding.WasCreated;

    /// <summary>How <see cref="Lock"/> and <see cref="LockAsync"/> wait when the mutex is held (default SpinThenBlock).</summary>
    public ShmWaitStrategy WaitStrategy { get; set; }

    /// <summary>
    /// Finds the mutex called <paramref name="name"/> in <paramref name="segment"/>, or creates it (unlocked). Safe when
    /// many processes race: exactly one creates it.
    /// </summary>
    /// <param name="segment">The managed segment.</param>
    /// <param name="name">1..32 bytes of UTF-8.</param>
    /// <param name="timeout">How long to wait while another process constructs it; default 5 s.</param>
    /// <param name="cancellationToken">Cancels that wait.</param>
    /// <returns>A handle; dispose it when done (that does not release a lock: holders do).</returns>
    /// <exception cref="ShmNameConflictException">The name belongs to another kind of structure.</exception>
    /// <exception cref="ShmCapacityException">The segment's directory or heap is full.</exception>
    /// <exception cref="ShmLayoutException">The structure there is damaged.</exception>
    public static ShmMutex OpenOrCreate(ManagedSegment segment, string name, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        new(ShmStructureBinding.OpenOrCreate(segment, name, ShmStructureKind.Mutex, 0, 0, 0, timeout, cancellationToken));

    /// <summary>Opens the existing mutex called <paramref name="name"/> in <paramref name="segment"/>.</summary>
    /// <param name="segment">The managed segment.</param>
    /// <param name="name">1..32 bytes of UTF-8.</param>
    /// <param name="timeout">How long to wait while another process constructs it; default 5 s.</param>
    /// <param name="cancellationToken">Cancels that wait.</param>
    /// <returns>A handle.</returns>
    /// <exception cref="IpcObjectNotFoundException">The segment holds no mutex by that name.</exception>
    /// <exception cref="ShmNameConflictException">The name belongs to another kind of structure.</exception>
    public static ShmMutex Open(ManagedSegment segment, string name, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        new(ShmStructureBinding.Open(segment, name, ShmStructureKind.Mutex, timeout, cancellationToken));

    /// <summary>
    /// Locks the mutex, waiting as long as <paramref name="timeout"/> allows. Dispose the returned holder to unlock
    /// (on any thread). Check <see cref="ShmMutexHolder.IsAbandoned"/>: true when the previous holder died holding it.
    /// </summary>
    /// <param name="timeout">How long to wait; null or <see cref="Timeout.InfiniteTimeSpan"/> waits forever; zero does not wait.</param>
    /// <param name="cancellationToken">Cancels the wait (the waiter wakes at once).</param>
    /// <returns>The holder.</returns>
    /// <exception cref="TimeoutException">The timeout passed (the message names the holder and whether it lives).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="ShmLockNotRecoverableException">An abandoned holder released it without MarkConsistent.</exception>
    /// <exception cref="ObjectDisposedException">This handle or the segment has been disposed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ShmMutexHolder Lock(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _binding.Enter();
        if (_lock.TryAcquireFast(_me))
        {
            return Acquired(abandoned: false);
        }

        return LockSlow(timeout, cancellationToken);
    }

    /// <summary>
    /// Locks the mutex if that is possible without waiting: it is free, or its holder is dead (then the holder reports
    /// <see cref="ShmMutexHolder.IsAbandoned"/>). A failed attempt checks the holder's liveness (a read of /proc, or of
    /// its liveness token), so a loop of TryLock also recovers from a dead holder.
    /// </summary>
    /// <param name="holder">The holder when it returns true; default otherwise.</param>
    /// <returns>True when locked.</returns>
    /// <exception cref="ShmLockNotRecoverableException">An abandoned holder released it without MarkConsistent.</exception>
    public unsafe bool TryLock(out ShmMutexHolder holder)
    {
        _binding.Enter();
        if (_lock.TryAcquireFast(_me))
        {
            holder = Acquired(abandoned: false);
            return true;
        }

        bool transferred = false;
        try
        {
            var op = new RobustLockAcquisition(_lock, _binding.Segment, _me, _abandonCount);
            for (int attempt = 0; attempt < 2; attempt++)
            {
                if (op.TryComplete())
                {
                    holder = Complete(in op);
                    transferred = true;
                    return true;
                }

                WatchTarget owner = op.GetWatchTarget();
                if (owner.Kind == WatchTargetKind.None || (owner.Kind == WatchTargetKind.Process && !op.IsOwnerDead(owner)) || !op.OnOwnerGone(owner))
                {
                    break;
                }
            }

            holder = default;
            return false;
        }
        finally
        {
            if (!transferred)
            {
                _binding.Exit();
            }
        }
    }

    /// <summary>
    /// Locks the mutex asynchronously: completes synchronously, without allocating, when it is free; otherwise spins
    /// briefly on the caller's thread and then waits on ShmKit's shared futex waiter thread, blocking no thread-pool
    /// thread. Dispose the holder to unlock, on any thread.
    /// </summary>
    /// <param name="timeout">How long to wait; null or <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The holder.</returns>
    /// <exception cref="TimeoutException">The timeout passed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="ShmLockNotRecoverableException">An abandoned holder released it without MarkConsistent.</exception>
    public unsafe ValueTask<ShmMutexHolder> LockAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ShmMutexHolder>(cancellationToken);
        }

        _binding.Enter();
        if (_lock.TryAcquireFast(_me))
        {
            return new ValueTask<ShmMutexHolder>(Acquired(abandoned: false));
        }

        bool transferred = false;
        try
        {
            long deadline = MonotonicClock.DeadlineAfter(timeout);
            var op = new RobustLockAcquisition(_lock, _binding.Segment, _me, _abandonCount);
            if (ShmWaitCore.TrySpin(ref op, WaitStrategy, deadline))
            {
                if (op.Result == LockAttempt.NotRecoverable)
                {
                    return ValueTask.FromException<ShmMutexHolder>(SyncErrors.NotRecoverable(_binding));
                }

                ShmMutexHolder holder = Complete(in op);
                transferred = true;
                return new ValueTask<ShmMutexHolder>(holder);
            }

            ValueTask<ShmMutexHolder> pending = LockSlowAsync(op, deadline, timeout, cancellationToken);
            transferred = true; // the async method releases the reference, or hands it to the holder
            return pending;
        }
        finally
        {
            if (!transferred)
            {
                _binding.Exit();
            }
        }
    }

    /// <summary>
    /// Makes a not-recoverable mutex usable again (unlocked, not abandoned). Call it after repairing the data it guards.
    /// </summary>
    /// <returns>True when it was not recoverable; false when it was usable already (nothing changed).</returns>
    public bool ResetNotRecoverable()
    {
        _binding.Enter();
        try
        {
            return _lock.ResetNotRecoverable();
        }
        finally
        {
            _binding.Exit();
        }
    }

    /// <summary>
    /// A snapshot of the lock's state for diagnostics (<c>shmkit inspect</c>): who holds it and whether that process
    /// lives, waiters, abandonment. It may be outdated as soon as it returns.
    /// </summary>
    /// <returns>The state.</returns>
    public unsafe ShmMutexState GetState()
    {
        int value, sleepers, abandonments;
        _binding.Enter();
        try
        {
            value = _lock.Value;
            sleepers = _lock.Sleepers;
            abandonments = Volatile.Read(ref *_abandonCount);
        }
        finally
        {
            _binding.Exit();
        }

        int owner = RobustLockWord.OwnerOf(value);
        int pid = 0;
        ShmParticipantLiveness? liveness = null;
        if (owner != 0)
        {
            if (_binding.Segment.TryGetOwner(owner, out ManagedSegmentParticipant participant))
            {
                pid = participant.ProcessId;
                liveness = participant.Liveness;
            }
            else
            {
                liveness = ShmParticipantLiveness.Dead;
            }
        }

        return new ShmMutexState(owner, pid, liveness, (value & RobustLockWord.Waiters) != 0, Math.Max(0, sleepers),
            (value & RobustLockWord.Abandoned) != 0, (value & RobustLockWord.Inconsistent) != 0, (value & RobustLockWord.NotRecoverable) != 0,
            Math.Max(0, abandonments));
    }

    /// <summary>
    /// Closes this handle: later calls throw <see cref="ObjectDisposedException"/>. A lock held through it stays held
    /// until its holder is disposed (which still works).
    /// </summary>
    public void Dispose() => _binding.Dispose();

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"ShmMutex '{Name}' at offset {Offset} of the {_binding.Segment.Site.Describe()}");

    /// <summary>Unlocks for the holder with <paramref name="lease"/>; a holder that is not current (disposed already) is ignored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Release(long lease)
    {
        if (Interlocked.CompareExchange(ref _heldLease, 0, lease) != lease)
        {
            return;
        }

        if (_lock.TryReleaseFast(_me))
        {
            _binding.Exit(); // the uncontended case: held by this process, consistent, nobody sleeping
            return;
        }

        ReleaseSlow();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReleaseSlow()
    {
        try
        {
            _lock.Release(_me, out _);
        }
        finally
        {
            _binding.Exit();
        }
    }

    /// <summary>True while the holder with <paramref name="lease"/> is the current one.</summary>
    internal bool IsHeldBy(long lease) => Volatile.Read(ref _heldLease) == lease;

    /// <summary>The holder's MarkConsistent.</summary>
    internal void MarkConsistent(long lease)
    {
        if (!IsHeldBy(lease))
        {
            throw SyncErrors.NotHeld(_binding);
        }

        _lock.MarkConsistent(_me);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ShmMutexHolder Acquired(bool abandoned)
    {
        long lease = ++_nextLease;
        Volatile.Write(ref _heldLease, lease);
        return new ShmMutexHolder(this, lease, abandoned);
    }

    private ShmMutexHolder Complete(in RobustLockAcquisition op) => op.Result switch
    {
        LockAttempt.Acquired => Acquired(abandoned: false),
        LockAttempt.AcquiredAbandoned => Acquired(abandoned: true),
        _ => throw SyncErrors.NotRecoverable(_binding),
    };

    private unsafe ShmMutexHolder LockSlow(TimeSpan? timeout, CancellationToken cancellationToken)
    {
        bool transferred = false;
        try
        {
            long deadline = MonotonicClock.DeadlineAfter(timeout);
            var op = new RobustLockAcquisition(_lock, _binding.Segment, _me, _abandonCount);
            if (!ShmWaitCore.Wait(ref op, WaitStrategy, deadline, cancellationToken))
            {
                throw SyncErrors.LockTimeout(_binding, op.Observed, timeout);
            }

            ShmMutexHolder holder = Complete(in op);
            transferred = true;
            return holder;
        }
        finally
        {
            if (!transferred)
            {
                _binding.Exit();
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ShmMutexHolder> LockSlowAsync(RobustLockAcquisition op, long deadline, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        bool transferred = false;
        try
        {
            (bool completed, RobustLockAcquisition final) = await ShmWaitCore.WaitAsync(op, deadline, cancellationToken).ConfigureAwait(false);
            if (!completed)
            {
                throw SyncErrors.LockTimeout(_binding, final.Observed, timeout);
            }

            ShmMutexHolder holder = Complete(in final);
            transferred = true;
            return holder;
        }
        finally
        {
            if (!transferred)
            {
                _binding.Exit();
            }
        }
    }
}
