namespace ShmKit;

/// <summary>
/// The MPMC mode's shared repairs, run by whoever finds the queue blocked: advancing head over released records, and
/// recovering the record at head (or at readCursor) from a participant that died holding it.
/// </summary>
/// <remarks>
/// <para><b>Why the reads are safe.</b> Every position only grows. A record at position p lives in the ring memory at
/// p &amp; (capacity − 1) until head passes p; only then may a producer write the next lap over it. So a header read
/// at p is genuine if head ≤ p still holds afterwards — which these routines check by re-reading head (acquire) after
/// the header (acquire), or by a CAS on head from p itself. Head passes only CONSUMED and PADDING records, and records
/// below readCursor change state only under the consumer latch (claim, recovery) or by their own owner (release),
/// so a CONSUMING or COMMITTED record seen at head stays put while the latch is held.</para>
/// <para>Every loop is bounded by the ring's size in records.</para>
/// </remarks>
internal static unsafe class MpmcRecovery
{
    private const long LatchWaitForRecovery = 1_000_000_000; // 1 s: recovery is an optimisation of a wait, never worth a long one

    /// <summary>
    /// Advances head over CONSUMED and PADDING records below readCursor, lock-free (CAS from the position whose header
    /// was read: a success proves the header was genuine). Wakes producers waiting for room when it moved.
    /// </summary>
    internal static bool AdvanceHead(QueueRing ring)
    {
        byte* b = ring.Base;
        byte* data = b + QueueLayout.DataOffset;
        ulong* head = (ulong*)(b + QueueLayout.HeadOffset);
        ulong* readCursor = (ulong*)(b + QueueLayout.ReadCursorOffset);
        ulong capacity = (ulong)ring.Capacity;
        ulong h = Volatile.Read(ref *head);
        bool moved = false;
        for (long budget = (ring.Capacity / QueueLayout.MpmcAlignment) + 16; budget > 0; budget--)
        {
            ulong rc = Volatile.Read(ref *readCursor);
            if (h >= rc || rc - h > capacity || (h & 15) != 0)
            {
                break;
            }

            byte* r = data + (h & ring.Mask);
            long control = Volatile.Read(ref *(long*)(r + QueueLayout.MpmcControlOffset));
            int state = QueueLayout.StateOf(control);
            if (state is not (QueueLayout.StateConsumed or QueueLayout.StatePadding))
            {
                break;
            }

            int reserved = Volatile.Read(ref *(int*)(r + QueueLayout.MpmcReservedOffset));
            ulong size = RecordSize(reserved);
            if (!Fits(ring, reserved, state, size, h, rc))
            {
                ulong now = Volatile.Read(ref *head);
                if (now != h)
                {
                    h = now; // someone moved head: the header may have been the next lap's; start again there
                    continue;
                }

                throw ring.CorruptRecord(h, h, rc, $"spans {reserved} bytes in state {state}, which does not fit the ring between head and readCursor");
            }

            ulong seen = Interlocked.CompareExchange(ref *head, h + size, h);
            if (seen == h)
            {
                h += size;
                moved = true;
            }
            else if (seen > h)
            {
                h = seen;
            }
            else
            {
                throw ring.Corrupted("head", QueueLayout.HeadOffset, seen, h, rc, "moved backwards");
            }
        }

        if (moved)
        {
            EventCount.Notify((long*)(b + QueueLayout.NotFullOffset)); // after the CAS's full fence
        }

        return moved;
    }

    /// <summary>
    /// Under the consumer latch, looks at what blocks the queue: a record at head CONSUMING by a dead participant
    /// (given back: COMMITTED | REDELIVERED, announced through the redelivery hint), a COMMITTED record at head that
    /// nobody announced (its recoverer died), a record at readCursor PRODUCING by a dead participant (turned into
    /// padding: never delivered). Returns the live owner whose death the caller should watch while it sleeps (0 for
    /// none). Never throws for what it finds; garbage is reported by the claim paths.
    /// </summary>
    internal static int RecoverHead(QueueRing ring, long deadline, CancellationToken cancellationToken)
    {
        byte* b = ring.Base;
        int* latch = (int*)(b + QueueLayout.ConsumerLatchOffset);
        QueueParticipants participants = ring.Participants;
        int me = participants.Self;
        if (!RobustLatch.TryEnter(latch, me))
        {
            try
            {
                long cap = MonotonicClock.Now + LatchWaitForRecovery;
                if (RobustLatch.Enter(latch, participants, deadline < cap ? deadline : cap, "queue consumer", cancellationToken) == LatchEntry.TookOver)
                {
                    AnnounceRedelivery(ring);
                }
            }
            catch (TimeoutException)
            {
                return 0;
            }
        }

        int watch = 0;
        bool advance = false;
        try
        {
            watch = InspectBlocker(ring, out advance);
        }
        finally
        {
            RobustLatch.Exit(latch, me);
        }

        if (advance)
        {
            AdvanceHead(ring);
        }

        return watch;
    }

    /// <summary>Makes sure a redelivery scan happens (hint ≥ 1) and wakes sleeping consumers.</summary>
    internal static void AnnounceRedelivery(QueueRing ring)
    {
        int* hint = (int*)(ring.Base + QueueLayout.RedeliveryHintOffset);
        if (Volatile.Read(ref *hint) <= 0)
        {
            Interlocked.Exchange(ref *hint, 1);
        }
        else
        {
            Interlocked.MemoryBarrier();
        }

        EventCount.Notify((long*)(ring.Base + QueueLayout.NotEmptyOffset));
    }

    /// <summary>The size in ring bytes of an MPMC record that spans <paramref name="reserved"/> payload bytes.</summary>
    internal static ulong RecordSize(int reserved) => ((ulong)(uint)reserved + QueueLayout.MpmcHeaderSize + 15) & ~15UL;

    /// <summary>Whether a record header's span is possible at <paramref name="position"/> below <paramref name="limit"/>.</summary>
    internal static bool Fits(QueueRing ring, int reserved, int state, ulong size, ulong position, ulong limit)
    {
        if (reserved < 0 || (state != QueueLayout.StatePadding && reserved > ring.MaxMessageLength))
        {
            return false;
        }

        ulong offset = position & ring.Mask;
        return size <= (ulong)ring.Capacity - offset && size <= limit - position;
    }

    private static int InspectBlocker(QueueRing ring, out bool advance)
    {
        advance = false;
        byte* b = ring.Base;
        byte* data = b + QueueLayout.DataOffset;
        ulong* head = (ulong*)(b + QueueLayout.HeadOffset);
        ulong h = Volatile.Read(ref *head);
        ulong rc = Volatile.Read(ref *(ulong*)(b + QueueLayout.ReadCursorOffset));
        ulong t = Volatile.Read(ref *(ulong*)(b + QueueLayout.TailOffset));
        ulong capacity = (ulong)ring.Capacity;
        if (h > rc || rc > t || t - h > capacity || ((h | rc) & 15) != 0)
        {
            return 0;
        }

        QueueParticipants participants = ring.Participants;
        int watch = 0;
        if (rc < t)
        {
            // The record at readCursor (stable: readCursor moves only under the latch, and head cannot pass it).
            byte* r = data + (rc & ring.Mask);
            long control = Volatile.Read(ref *(long*)(r + QueueLayout.MpmcControlOffset));
            int owner = QueueLayout.OwnerOf(control);
            if (QueueLayout.StateOf(control) == QueueLayout.StateProducing && owner != participants.Self)
            {
                if (participants.Check(owner) != ShmParticipantLiveness.Dead)
                {
                    watch = owner;
                }
                else if (Interlocked.CompareExchange(ref *(long*)(r + QueueLayout.MpmcControlOffset), QueueLayout.Control(QueueLayout.StatePadding, 0, 0), control) == control)
                {
                    Interlocked.Increment(ref *(long*)(b + QueueLayout.AbandonedRecordsOffset));
                    EventCount.Notify((long*)(b + QueueLayout.NotEmptyOffset));
                }
            }
        }

        if (h < rc)
        {
            byte* r = data + (h & ring.Mask);
            long control = Volatile.Read(ref *(long*)(r + QueueLayout.MpmcControlOffset));
            if (Volatile.Read(ref *head) != h)
            {
                return watch; // head moved: the header may not be the record at h any more; the caller looks again
            }

            int owner = QueueLayout.OwnerOf(control);
            switch (QueueLayout.StateOf(control))
            {
                case QueueLayout.StateConsuming when owner != participants.Self:
                    if (participants.Check(owner) != ShmParticipantLiveness.Dead)
                    {
                        return watch != 0 ? watch : owner;
                    }

                    long given = QueueLayout.Control(QueueLayout.StateCommitted, QueueLayout.FlagsOf(control) | QueueLayout.FlagRedelivered, 0);
                    if (Interlocked.CompareExchange(ref *(long*)(r + QueueLayout.MpmcControlOffset), given, control) == control)
                    {
                        Interlocked.Increment(ref *(int*)(b + QueueLayout.RedeliveryHintOffset));
                        EventCount.Notify((long*)(b + QueueLayout.NotEmptyOffset));
                    }

                    break;
                case QueueLayout.StateCommitted:
                    AnnounceRedelivery(ring);
                    break;
                case QueueLayout.StateConsumed:
                case QueueLayout.StatePadding:
                    advance = true;
                    break;
            }
        }

        return watch;
    }
}
