using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>What one attempt on a robust lock word found (<see cref="RobustLockWord.TryAcquire"/>).</summary>
internal enum LockAttempt
{
    /// <summary>Acquired; the previous owner released it normally.</summary>
    Acquired,

    /// <summary>Acquired; the previous owner died holding it (ABANDONED was set): the holder is told, the word now carries INCONSISTENT.</summary>
    AcquiredAbandoned,

    /// <summary>Another owner holds it.</summary>
    Held,

    /// <summary>The word is NOT_RECOVERABLE: nobody may acquire it until it is reset.</summary>
    NotRecoverable,
}

/// <summary>
/// The robust lock word of ShmKit (DESIGN-8 "Lock word"): a 32-bit futex word in shared memory that a process owns
/// through its participant owner id, plus a sleeper count next to it. Used by <see cref="ShmMutex"/>, and meant for
/// the writer side of the reader-writer lock and the seqlock's writer latch, which share the encoding. A view over
/// two pointers: valid only while the caller holds a reference on the mapping.
/// <code>
/// lock word  bits 0..27  owner id (ManagedSegment.OwnerId of the holder; 0 = no owner)
///            bit 28      NOT_RECOVERABLE (no owner; every acquirer throws until ResetNotRecoverable)
///            bit 29      INCONSISTENT   (held after an abandonment, until the holder marks it consistent)
///            bit 30      ABANDONED      (no owner; the last owner died holding it)
///            bit 31      WAITERS        (some thread may sleep in FUTEX_WAIT on this word)
/// sleepers   the number of threads (all processes) registered as sleeping on the word
/// </code>
/// <para><b>Lock word: writers and readers.</b> Every change is an Interlocked CAS (a full fence), so a value read
/// with Volatile.Read (acquire) is always a whole state some process wrote. Acquire: CAS free (0, ABANDONED,
/// ABANDONED|WAITERS) → me | INCONSISTENT-if-abandoned | WAITERS-if-sleepers. Sleeper: CAS v → v|WAITERS (the
/// value it then sleeps on; the kernel's compare in FUTEX_WAIT makes a change in between an EAGAIN, never a lost
/// wake). Release (holder only, after checking the owner): CAS v → 0, or → NOT_RECOVERABLE when INCONSISTENT is
/// still set, then FUTEX_WAKE(1) (all for NOT_RECOVERABLE) only when v had WAITERS. Recovery (a waiter that found the
/// owner dead): CAS owner|flags → ABANDONED|(WAITERS of v). MarkConsistent (holder): Interlocked.And(~INCONSISTENT).
/// ResetNotRecoverable: CAS NOT_RECOVERABLE → 0. A reader in the middle of any of these sees the old or the new value,
/// both valid states; there is no transient state without an owner that a dead process could leave behind (glibc BZ
/// 20985's hazard).</para>
/// <para><b>Sleeper count: writers and readers.</b> A sleeper Interlocked.Increments it before it sets WAITERS and
/// sleeps, and Interlocked.Decrements it after every sleep, whatever the outcome. Acquirers read it (Volatile.Read,
/// after their own full fences) to decide whether the new value keeps WAITERS, and to hand a wake on. A process killed
/// while it sleeps leaves it too high: that costs needless wakes, never a lost one. Readers may see a stale value;
/// every decision taken on it is re-checked by a CAS on the lock word or covered by a wake.</para>
/// <para><b>Every owner is watched.</b> Sleepers watch the owner they saw (LivenessMonitor, through the thread's
/// FutexInterrupt). When a new owner takes the lock while others sleep, they may still watch the previous one; so an
/// acquirer that sees sleepers wakes one (<see cref="AfterAcquire"/>), which re-reads the word and watches the new
/// owner. A waiter that leaves without acquiring (timeout, cancellation) may have consumed a wake meant for the others
/// and wakes one in its place (<see cref="LeaveSleepers"/>).</para>
/// </summary>
internal readonly unsafe struct RobustLockWord
{
    internal const int OwnerMask = ParticipantRef.OwnerIdMask;
    internal const int NotRecoverable = 1 << 28;
    internal const int Inconsistent = 1 << 29;
    internal const int Abandoned = 1 << 30;
    internal const int Waiters = unchecked((int)0x8000_0000);

    private const int MaxCasRetries = 64;

    private readonly int* _word;
    private readonly int* _sleepers;

    /// <param name="word">The lock word (4-byte aligned, in shared memory).</param>
    /// <param name="sleepers">The sleeper count word next to it.</param>
    internal RobustLockWord(int* word, int* sleepers)
    {
        _word = word;
        _sleepers = sleepers;
    }

    /// <summary>The lock word (for futex calls).</summary>
    internal int* Word => _word;

    /// <summary>The lock word's value now (acquire).</summary>
    internal int Value => Volatile.Read(ref *_word);

    /// <summary>Threads registered as sleeping (may include dead ones).</summary>
    internal int Sleepers => Volatile.Read(ref *_sleepers);

    /// <summary>The owner id in a lock word value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int OwnerOf(int value) => value & OwnerMask;

    /// <summary>The uncontended acquire: one CAS from 0 (free, never abandoned, nobody sleeping).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryAcquireFast(int me) => Interlocked.CompareExchange(ref *_word, me, 0) == 0;

    /// <summary>
    /// One attempt on the current state (test before CAS): acquires when the word has no owner. Returns the value it
    /// saw in <paramref name="observed"/> (for a Held result: the value to watch and sleep on).
    /// </summary>
    internal LockAttempt TryAcquire(int me, out int observed)
    {
        for (int i = 0; ; i++)
        {
            int v = Volatile.Read(ref *_word);
            observed = v;
            if ((v & NotRecoverable) != 0)
            {
                return LockAttempt.NotRecoverable;
            }

            if (OwnerOf(v) != 0)
            {
                return LockAttempt.Held;
            }

            // Free: 0, ABANDONED, and either with WAITERS. INCONSISTENT without an owner is not a state any process
            // writes; treat it like ABANDONED (the safe direction: the next holder is told).
            bool abandoned = (v & (Abandoned | Inconsistent)) != 0;
            int next = me | (abandoned ? Inconsistent : 0) | (Volatile.Read(ref *_sleepers) > 0 ? Waiters : 0);
            if (Interlocked.CompareExchange(ref *_word, next, v) == v)
            {
                observed = next;
                return abandoned ? LockAttempt.AcquiredAbandoned : LockAttempt.Acquired;
            }

            if (i >= MaxCasRetries)
            {
                // Another process changes the word faster than we can CAS it: report it held, so the caller sleeps on
                // whatever it is now (a hostile peer cannot keep this loop running forever).
                observed = Volatile.Read(ref *_word);
                return LockAttempt.Held;
            }
        }
    }

    /// <summary>
    /// After an acquisition on the slow path: if threads sleep on the word, wake one so that it re-reads the word and
    /// watches the new owner (the others may watch the previous one). Not needed after <see cref="TryAcquireFast"/>:
    /// from 0 the previous release has already woken a sleeper that will look at the word again.
    /// </summary>
    internal void AfterAcquire()
    {
        if (Volatile.Read(ref *_sleepers) > 0)
        {
            Futex.Wake(_word, 1);
        }
    }

    /// <summary>
    /// Registers a sleeper on the value <paramref name="observed"/> (held by <paramref name="owner"/>): counts it, then
    /// sets WAITERS with a CAS. False (and nothing counted) when the word changed meanwhile or is held by someone else:
    /// the caller re-evaluates at once. On true, sleep on <paramref name="expected"/> and call <see cref="EndSleep"/>.
    /// </summary>
    internal bool BeginSleep(int observed, int owner, out int expected)
    {
        expected = observed | Waiters;
        if (OwnerOf(observed) != owner || owner == 0)
        {
            return false;
        }

        Interlocked.Increment(ref *_sleepers);
        if ((observed & Waiters) == 0 && Interlocked.CompareExchange(ref *_word, expected, observed) != observed)
        {
            Interlocked.Decrement(ref *_sleepers);
            return false;
        }

        return true;
    }

    /// <summary>Unregisters a sleeper (after every sleep, whatever its outcome).</summary>
    internal void EndSleep() => Interlocked.Decrement(ref *_sleepers);

    /// <summary>
    /// A waiter leaves without acquiring (timeout, cancellation, an error), after its last <see cref="EndSleep"/>.
    /// If it was the last sleeper, it clears WAITERS, so it leaves no trace in the word; if others sleep, it wakes one,
    /// because the wake it may have consumed (the release's, or an owner change's) was meant for them.
    /// </summary>
    internal void LeaveSleepers()
    {
        if (Volatile.Read(ref *_sleepers) > 0)
        {
            Futex.Wake(_word, 1);
            return;
        }

        int v = Volatile.Read(ref *_word);
        if ((v & Waiters) == 0 || Interlocked.CompareExchange(ref *_word, v & ~Waiters, v) != v)
        {
            return; // nothing to clear, or the word moved on (whoever changed it took care of WAITERS)
        }

        // A sleeper may have registered between our read of the count and the CAS, seen WAITERS still set and gone to
        // sleep on v: give the flag back, and if the word moved on meanwhile, wake it so that it re-evaluates.
        if (Volatile.Read(ref *_sleepers) > 0 && Interlocked.CompareExchange(ref *_word, v, v & ~Waiters) != (v & ~Waiters))
        {
            Futex.WakeAll(_word);
        }
    }

    /// <summary>
    /// A waiter confirmed that <paramref name="deadOwner"/> is dead: CAS its value to ABANDONED (keeping WAITERS). True
    /// when this call did it (count it); false when the word no longer names that owner.
    /// </summary>
    internal bool MarkAbandoned(int deadOwner)
    {
        for (int i = 0; i < MaxCasRetries; i++)
        {
            int v = Volatile.Read(ref *_word);
            if (OwnerOf(v) != deadOwner || deadOwner == 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref *_word, Abandoned | (v & Waiters), v) == v)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The uncontended release: one CAS from exactly <paramref name="me"/> (held by me, consistent, nobody sleeping)
    /// to 0. False when any flag is set or the word is not mine: call <see cref="Release"/>, which handles (and checks) them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryReleaseFast(int me) => Interlocked.CompareExchange(ref *_word, 0, me) == me;

    /// <summary>
    /// Releases the lock held by <paramref name="me"/>: to 0, or to NOT_RECOVERABLE when the holder never cleared
    /// INCONSISTENT; wakes one sleeper (all for NOT_RECOVERABLE) when WAITERS was set. Returns the value replaced.
    /// </summary>
    /// <exception cref="SynchronizationLockException">The word is not owned by <paramref name="me"/> (it was taken over).</exception>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal int Release(int me, out bool becameNotRecoverable)
    {
        int v = Volatile.Read(ref *_word);
        for (int i = 0; ; i++)
        {
            if (OwnerOf(v) != me)
            {
                throw new SynchronizationLockException($"The lock word no longer names this process (owner id {me}) as its owner: {Describe(v)}. Another process judged this one dead and took the lock over, or the segment's memory was changed.");
            }

            int next = (v & Inconsistent) != 0 ? NotRecoverable : 0;
            int seen = Interlocked.CompareExchange(ref *_word, next, v);
            if (seen == v)
            {
                becameNotRecoverable = next != 0;
                if ((v & Waiters) != 0)
                {
                    Futex.Wake(_word, becameNotRecoverable ? int.MaxValue : 1);
                }

                return v;
            }

            // Only WAITERS can change under the owner (a sleeper set it); anything else is re-checked above.
            v = seen;
            if (i >= MaxCasRetries)
            {
                throw new SynchronizationLockException($"The lock word kept changing while its owner (owner id {me}) released it ({Describe(v)}); another program writes the segment's memory.");
            }
        }
    }

    /// <summary>Clears INCONSISTENT (the holder declares the guarded data consistent).</summary>
    /// <exception cref="SynchronizationLockException">The word is not owned by <paramref name="me"/>.</exception>
    internal void MarkConsistent(int me)
    {
        int v = Volatile.Read(ref *_word);
        if (OwnerOf(v) != me)
        {
            throw new SynchronizationLockException($"The lock word no longer names this process (owner id {me}) as its owner: {Describe(v)}.");
        }

        Interlocked.And(ref *_word, ~Inconsistent);
    }

    /// <summary>NOT_RECOVERABLE → 0 (keeping nothing else). False when the word was not NOT_RECOVERABLE.</summary>
    internal bool ResetNotRecoverable()
    {
        for (int i = 0; i < MaxCasRetries; i++)
        {
            int v = Volatile.Read(ref *_word);
            if ((v & NotRecoverable) == 0 || OwnerOf(v) != 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref *_word, 0, v) == v)
            {
                if ((v & Waiters) != 0)
                {
                    Futex.WakeAll(_word);
                }

                return true;
            }
        }

        return false;
    }

    /// <summary>A lock word value in words, for messages: "owner id 0x10003, WAITERS".</summary>
    internal static string Describe(int value)
    {
        var parts = new List<string>(5);
        parts.Add(OwnerOf(value) == 0 ? "no owner" : FormattableString.Invariant($"owner id 0x{OwnerOf(value):x}"));
        if ((value & NotRecoverable) != 0)
        {
            parts.Add("NOT_RECOVERABLE");
        }

        if ((value & Inconsistent) != 0)
        {
            parts.Add("INCONSISTENT");
        }

        if ((value & Abandoned) != 0)
        {
            parts.Add("ABANDONED");
        }

        if ((value & Waiters) != 0)
        {
            parts.Add("WAITERS");
        }

        return string.Join(", ", parts);
    }
}
