using System.Diagnostics;
using ShmKit.Interop;

namespace ShmKit;

internal static unsafe partial class LivenessMonitor
{
    /// <summary>semtimedop slice of a token thread: how often it checks whether it is still needed.</summary>
    private const int TokenSliceMilliseconds = 1000;

    /// <summary>Starts the thread that waits for the entry's token to reach zero (under s_gate).</summary>
    private static void StartTokenThread(Entry entry) =>
        BackgroundThreads.Start(static state => RunTokenThread((Entry)state!), entry, "ShmKit liveness token", ref s_threadCount);

    /// <summary>
    /// Blocks in semtimedop(token, wait-for-zero) — no CPU while the participant lives. Returns 0 when the kernel
    /// undid the participant's SEM_UNDO +1 (it died, in any pid namespace) or it unregistered; EIDRM/EINVAL when the
    /// set is gone. Either way the entry fires. A slice timeout re-checks whether anyone still watches.
    /// </summary>
    private static void RunTokenThread(Entry entry)
    {
        var toFire = new List<LivenessWatch>(1);
        LivenessToken token = entry.Token!.Value;
        try
        {
            while (true)
            {
                lock (s_gate)
                {
                    if (entry.Removed)
                    {
                        return;
                    }

                    if (entry.Subscribers.Count == 0 && MonotonicClock.Now >= entry.LingerUntil)
                    {
                        RemoveLocked(entry);
                        return;
                    }
                }

                Sem.sembuf op = new() { sem_num = (ushort)token.Index, sem_op = 0, sem_flg = 0 };
                Sem.timespec slice = new() { tv_sec = TokenSliceMilliseconds / 1000, tv_nsec = TokenSliceMilliseconds % 1000 * 1_000_000 };
                bool gone;
                if (Sem.semtimedop(token.SemaphoreSetId, &op, 1, &slice) == 0)
                {
                    gone = true;
                }
                else
                {
                    int errno = Errno.Last;
                    switch (errno)
                    {
                        case Errno.EAGAIN:
                        case Errno.EINTR:
                            continue;
                        case Errno.EIDRM:
                        case Errno.EINVAL:
                            gone = true; // the token set was removed: nothing left to watch
                            break;
                        default:
                            // EACCES, EFBIG (index outside the set), ...: this token cannot be watched. Never fire
                            // on a guess; the waiter's own timeout still applies.
                            Trace.TraceWarning($"ShmKit liveness monitor cannot watch {token}: {Errno.Describe(errno)}");
                            lock (s_gate)
                            {
                                RemoveLocked(entry);
                            }

                            return;
                    }
                }

                if (gone)
                {
                    lock (s_gate)
                    {
                        MarkDeadLocked(entry, toFire);
                    }

                    FireAll(toFire);
                    return;
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref s_threadCount);
        }
    }
}
