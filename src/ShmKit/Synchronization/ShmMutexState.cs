namespace ShmKit;

/// <summary>
/// A snapshot of a <see cref="ShmMutex"/> (<see cref="ShmMutex.GetState"/>), for diagnostics such as
/// <c>shmkit inspect</c>. Taken without locking; it may be outdated when it returns.
/// </summary>
/// <param name="OwnerId">The holder's owner id in the segment (slot and generation bits), 0 when free.</param>
/// <param name="OwnerProcessId">The holder's pid (as it sees itself), 0 when free or when its registration is gone.</param>
/// <param name="OwnerLiveness">Whether the holder lives (null when free); Dead when its registration is gone: the next locker will recover the lock.</param>
/// <param name="HasWaiters">The WAITERS flag: some thread may sleep on the lock (a release will wake one).</param>
/// <param name="SleepingWaiters">Threads registered as sleeping on it, in all processes (a killed sleeper stays counted).</param>
/// <param name="IsAbandoned">Free, and its last holder died holding it: the next holder will be told.</param>
/// <param name="IsInconsistent">Held after an abandonment, and not yet marked consistent.</param>
/// <param name="IsNotRecoverable">Unusable until <see cref="ShmMutex.ResetNotRecoverable"/>: an abandoned holder released it without marking it consistent.</param>
/// <param name="AbandonedCount">How many times a holder died holding it (a 32-bit counter in the segment).</param>
public readonly record struct ShmMutexState(
    int OwnerId, int OwnerProcessId, ShmParticipantLiveness? OwnerLiveness, bool HasWaiters, int SleepingWaiters,
    bool IsAbandoned, bool IsInconsistent, bool IsNotRecoverable, int AbandonedCount)
{
    /// <summary>True when some process holds it.</summary>
    public bool IsHeld => OwnerId != 0;
}
