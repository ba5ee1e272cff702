namespace ShmKit;

/// <summary>
/// What an async wait of a queue handle sleeps on: an eventcount's word and the epoch registered in, and the owner
/// whose death should end the wait (0 = none). <see cref="Ready"/> when the condition already holds.
/// </summary>
internal readonly record struct AsyncWaitTicket(nint Word, int Epoch, int WatchOwner)
{
    internal static AsyncWaitTicket ReadyNow => new(0, 0, 0);

    internal bool Ready => Word == 0;
}

/// <summary>Starts the futex wait of an <see cref="AsyncWaitTicket"/> on the shared waiter thread (which keeps the mapping referenced until it completes).</summary>
internal static unsafe class QueueAsyncWait
{
    internal static ValueTask<FutexWaitResult> Start(QueueRing ring, in AsyncWaitTicket ticket, long deadline, CancellationToken cancellationToken)
    {
        ProcessIdentity? process = null;
        LivenessToken? token = null;
        if (ticket.WatchOwner != 0 && ring.Participants.TryGetWatchTarget(ticket.WatchOwner, out ProcessIdentity p, out LivenessToken t))
        {
            process = p;
            token = t;
        }

        return FutexWaitThread.WaitAsync(EventCount.EpochWord((long*)ticket.Word), ticket.Epoch, deadline, ring.Handle, cancellationToken, process, token);
    }
}
