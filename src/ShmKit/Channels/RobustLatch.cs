using System.Globalization;
using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>How <see cref="RobustLatch.Enter"/> got the latch.</summary>
internal enum LatchEntry
{
    /// <summary>It was free.</summary>
    Acquired,

    /// <summary>Its holder had died inside the critical section: the caller repairs what that section may have left.</summary>
    TookOver,
}

/// <summary>
/// The MPMC queue's claim latch: a 32-bit futex word in shared memory holding the owner id of the participant inside
/// a critical section of a few loads and stores (0 = free), plus <see cref="WaitersBit"/> when someone may sleep on
/// it. Robust: a holder that died is replaced by CAS, and the caller learns it (<see cref="LatchEntry.TookOver"/>).
/// </summary>
/// <remarks>
/// <para><b>Protocol</b> (Drepper's "mutex 2" with owner ids, as in DESIGN-8's lock word, without the
/// consistency states: the queue's sections are written so that every intermediate state is recoverable).
/// Enter: CAS 0 → me. Contended: spin with loads only, then yield, then check the owner once (dead → CAS v → me,
/// keeping WAITERS), then arm a liveness watch on it, set WAITERS by CAS and FUTEX_WAIT on v|WAITERS until woken, the
/// deadline, or the watched owner's death (the thread's interrupt word). A thread that slept acquires with WAITERS
/// set, because others may still sleep. Exit: CAS me|w → 0 (a full fence: the section's stores are visible before
/// the latch is free); FUTEX_WAKE(1) when WAITERS was set. Exit never frees a latch that is not ours.</para>
/// <para><b>Who writes / reads</b>: every claimer (producers for the producer latch; consumers, and producers that
/// recover a dead consumer's record, for the consumer latch) by CAS; read with Volatile.Read while spinning.
/// Several threads of one process share an owner id: one of them holds it, the others wait (the holder is alive by
/// definition, so it is never taken over). Garbage in the word names an owner that does not exist, is judged dead and
/// is replaced: garbage costs one takeover, never a hang.</para>
/// </remarks>
internal static unsafe class RobustLatch
{
    internal const int WaitersBit = unchecked((int)0x8000_0000);
    internal const int OwnerMask = 0x7FFF_FFFF;

    private const int SpinLoads = 64;
    private const int Yields = 16;
    private const int MaxRounds = 100_000;

    /// <summary>The fast path: CAS 0 → me.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool TryEnter(int* word, int me) => Interlocked.CompareExchange(ref *word, me, 0) == 0;

    /// <summary>
    /// Enters the latch, waiting while a live holder is inside. Throws <see cref="TimeoutException"/> at the
    /// deadline and <see cref="OperationCanceledException"/> on cancellation; the latch is then untouched.
    /// </summary>
    internal static LatchEntry Enter(int* word, QueueParticipants participants, long deadline, string what, CancellationToken cancellationToken)
    {
        int me = participants.Self;
        if (TryEnter(word, me))
        {
            return LatchEntry.Acquired;
        }

        // Spin with loads only, then yield: the holder is normally inside a few stores.
        for (int i = 0; i < SpinLoads + Yields; i++)
        {
            if (i < SpinLoads)
            {
                Thread.SpinWait(8);
            }
            else
            {
                Thread.Yield();
            }

            int v = Volatile.Read(ref *word);
            if ((v & OwnerMask) == 0 && Interlocked.CompareExchange(ref *word, me | (v & WaitersBit), v) == v)
            {
                return LatchEntry.Acquired;
            }
        }

        bool slept = false;
        for (int round = 0; ; round++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (round > MaxRounds)
            {
                // Every round either sleeps or lost a CAS to a change of the word: this many means something keeps
                // rewriting it (garbage, a hostile peer). Bounded like every loop over shared state.
                throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                    $"The {what} latch word kept changing under this process ({MaxRounds} attempts); something other than the queue protocol writes it."));
            }

            int v = Volatile.Read(ref *word);
            int owner = v & OwnerMask;
            if (owner == 0)
            {
                if (Interlocked.CompareExchange(ref *word, me | (slept ? WaitersBit : 0) | (v & WaitersBit), v) == v)
                {
                    return LatchEntry.Acquired;
                }

                continue;
            }

            using LivenessWatch? watch = participants.Watch(owner); // armed before the check: a death after it is not lost
            if (participants.Check(owner) == ShmParticipantLiveness.Dead)
            {
                if (Interlocked.CompareExchange(ref *word, me | (v & WaitersBit), v) == v)
                {
                    return LatchEntry.TookOver;
                }

                continue;
            }

            int expected = v | WaitersBit;
            if (v != expected && Interlocked.CompareExchange(ref *word, expected, v) != v)
            {
                continue;
            }

            if (MonotonicClock.Now >= deadline)
            {
                throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                    $"The {what} latch stayed held by a live process (pid {participants.ProcessIdOf(owner)}) until the timeout. A process that holds it for long is stopped or stuck."));
            }

            FutexWaitResult result = Futex.Wait(word, expected, deadline, cancellationToken);
            slept = true;
            if (result == FutexWaitResult.Cancelled)
            {
                throw new OperationCanceledException(cancellationToken);
            }
        }
    }

    /// <summary>Leaves the latch (if it is still ours) and wakes one sleeper when WAITERS was set.</summary>
    internal static void Exit(int* word, int me)
    {
        for (int i = 0; i < 4; i++)
        {
            int v = Volatile.Read(ref *word);
            if ((v & OwnerMask) != me)
            {
                return; // not ours (taken over, or garbage written over it): never free someone else's latch
            }

            if (Interlocked.CompareExchange(ref *word, 0, v) == v)
            {
                if ((v & WaitersBit) != 0)
                {
                    Futex.Wake(word, 1);
                }

                return;
            }
        }
    }
}
