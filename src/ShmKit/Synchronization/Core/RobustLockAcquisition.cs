namespace ShmKit;

/// <summary>
/// Acquiring a <see cref="RobustLockWord"/> as an <see cref="IShmWaitOperation"/>: the state machine of the contended
/// path (docs/ARCHITECTURE.md, "The lock word and its state machine"). Spin while held and nobody is parked; then watch the owner
/// (its participant record: pid, start time, pid namespace, SEM_UNDO token), set WAITERS and sleep on owner|WAITERS;
/// an owner whose slot moved on, or whose watch fired and who is confirmed dead (token at 0, /proc gone, another start
/// time, a zombie), is replaced by ABANDONED and the lock acquired with INCONSISTENT, which the holder is told.
/// </summary>
/// <remarks>
/// After the wait, <see cref="Result"/> says how it ended: Acquired, AcquiredAbandoned, or NotRecoverable (the
/// operation "completes" so that the caller can throw). Used by ShmMutex; the reader-writer lock's writer side and the
/// seqlock's writer latch acquire their word the same way.
/// </remarks>
internal unsafe struct RobustLockAcquisition : IShmWaitOperation
{
    private readonly RobustLockWord _lock;
    private readonly ManagedSegment _segment;
    private readonly int _me;
    private readonly int* _abandonCount;
    private int _observed;
    private bool _slept;

    /// <param name="lockWord">The word and its sleeper count.</param>
    /// <param name="segment">The managed segment whose participant table names the owners.</param>
    /// <param name="me">This process's owner id in that segment.</param>
    /// <param name="abandonCount">A counter in shared memory incremented on each recovery (for inspect), or null.</param>
    internal RobustLockAcquisition(RobustLockWord lockWord, ManagedSegment segment, int me, int* abandonCount)
    {
        _lock = lockWord;
        _segment = segment;
        _me = me;
        _abandonCount = abandonCount;
        _observed = 0;
        _slept = false;
        Result = LockAttempt.Held;
    }

    /// <summary>How the last attempt ended.</summary>
    internal LockAttempt Result { get; private set; }

    /// <summary>The lock word value seen last (for messages: who held it at a timeout).</summary>
    internal readonly int Observed => _observed;

    public readonly bool SpinIsUseful => (_observed & RobustLockWord.Waiters) == 0;

    public bool TryComplete()
    {
        Result = _lock.TryAcquire(_me, out _observed);
        switch (Result)
        {
            case LockAttempt.Held:
                return false;
            case LockAttempt.NotRecoverable:
                return true;
            default:
                _lock.AfterAcquire();
                return true;
        }
    }

    public readonly WatchTarget GetWatchTarget()
    {
        int owner = RobustLockWord.OwnerOf(_observed);
        if (owner == 0 || owner == _me)
        {
            return WatchTarget.None; // free (the next attempt takes it), or another thread of this registration holds it
        }

        if (!_segment.TryGetOwnerRecord(owner, out ParticipantTable.SlotRecord record))
        {
            return new WatchTarget(WatchTargetKind.Dead, owner, default, null); // its slot is no longer that registration
        }

        var identity = new ProcessIdentity(record.Pid, (ulong)record.StartTime, (ulong)record.PidNamespaceInode);
        if (identity == ProcessIdentity.Current)
        {
            return WatchTarget.None; // another registration of this very process
        }

        return new WatchTarget(WatchTargetKind.Process, owner, identity, new LivenessToken(_segment.LivenessTokens.Id, record.TokenIndex));
    }

    public bool BeginSleep(out int* word, out int expected)
    {
        word = _lock.Word;
        if (!_lock.BeginSleep(_observed, RobustLockWord.OwnerOf(_observed), out expected))
        {
            return false;
        }

        _slept = true;
        return true;
    }

    public readonly void EndSleep() => _lock.EndSleep();

    /// <summary>
    /// Whether the owner a Process target names is dead, judged now: /proc in this pid namespace (one read, no
    /// allocation: no such process, another start time, a zombie); otherwise the participant table's check (its
    /// SEM_UNDO token, which works across pid namespaces). A live process whose registration ended counts as dead.
    /// </summary>
    internal readonly bool IsOwnerDead(in WatchTarget target) => ProcessLiveness.Check(target.Process) switch
    {
        LivenessState.Dead => true,
        LivenessState.Alive => !_segment.TryGetOwnerRecord(target.Key, out _), // alive, unless its registration ended
        _ => _segment.CheckOwner(target.Key) == ShmParticipantLiveness.Dead,
    };

    public readonly bool OnOwnerGone(in WatchTarget target)
    {
        if (target.Kind == WatchTargetKind.Process && !IsOwnerDead(target))
        {
            return false; // alive after all, or cannot be told (another pid namespace and no readable token)
        }

        if (_lock.MarkAbandoned(target.Key) && _abandonCount is not null)
        {
            Interlocked.Increment(ref *_abandonCount);
        }

        return true;
    }

    public readonly void Leave()
    {
        if (_slept)
        {
            _lock.LeaveSleepers();
        }
    }
}
