namespace ShmKit;

/// <summary>
/// The Memory layer's wait for another process to change a word in shared memory (an initializer publishing a
/// header, a constructor publishing a directory entry), as docs/ARCHITECTURE.md ("Synchronization foundation")
/// prescribes: arm a <see cref="LivenessMonitor"/> watch on that process (<see cref="Watch"/>), check its liveness,
/// then <see cref="Sleep"/> in one futex wait — no slices, no wake-ups while idle. Its death signals the thread's
/// <see cref="FutexInterrupt"/> and ends the sleep; the caller loops, confirms the death with a fresh check, and
/// poisons or takes over.
/// </summary>
/// <remarks>
/// A watch may also fire because the process can no longer be watched (its token set was removed). When the next
/// check then does not confirm a death, arming a new watch would fire again at once: so a fired watch's process is
/// not watched again by this wait, which then sleeps until the word changes or the deadline passes. One per call
/// (a local of the waiting loop); not shared between threads.
/// </remarks>
internal unsafe struct PeerWait(long deadline, CancellationToken cancellationToken)
{
    private (ProcessIdentity Process, LivenessToken? Token)? _spent;

    /// <summary>The deadline of the whole wait (absolute <see cref="MonotonicClock"/>).</summary>
    internal readonly long Deadline => deadline;

    /// <summary>Arms a watch on <paramref name="peer"/> (null when an earlier one of this wait already fired for it). Dispose it after <see cref="Sleep"/>.</summary>
    internal readonly LivenessWatch? Watch(in ProcessIdentity peer, LivenessToken? token) =>
        _spent == (peer, token) ? null : LivenessMonitor.Watch(peer, token, FutexInterrupt.Current);

    /// <summary>
    /// Sleeps while <c>*word == expected</c> (the caller holds a lease on the mapping). Returns false when the deadline
    /// passed and true when the caller should look again (woken, changed, or the watched process died).
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    internal bool Sleep(int* word, int expected, LivenessWatch? watch, in ProcessIdentity peer, LivenessToken? token)
    {
        bool woken = Futex.TryWait(word, expected, deadline, cancellationToken);
        if (watch is { HasFired: true })
        {
            _spent = (peer, token);
        }

        return woken;
    }
}
