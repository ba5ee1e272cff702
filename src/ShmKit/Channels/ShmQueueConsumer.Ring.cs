using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>The consumer's side of the ring protocol (SPSC and MPMC), called with the gate entered.</summary>
public sealed unsafe partial class ShmQueueConsumer
{
    private const long LatchWaitCap = 10L * 1_000_000_000;

    private byte* LeasePayload => _data + (_leasePosition & _mask) + (_mpmc ? QueueLayout.MpmcHeaderSize : QueueLayout.SpscHeaderSize);

    private long* Counter(int offset) => (long*)(_base + offset);

    /// <summary>Takes the next message if there is one now; <paramref name="blocker"/> names a live owner that holds the queue up (MPMC).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryReceiveCore(bool checkLiveness, long deadline, CancellationToken cancellationToken, out int blocker)
    {
        if (!_mpmc)
        {
            blocker = 0;
            return TryReceiveSpsc();
        }

        return TryReceiveMpmc(checkLiveness, deadline, cancellationToken, out blocker);
    }

    /// <summary>
    /// SPSC: when the cached tail says empty, re-read tail (acquire: pairs with the producer's release, so the records
    /// below it are complete). Then validate the record header before any use — flags known, 0 ≤ length ≤ max, the
    /// record inside [head, tail) and inside the ring without wrapping (a padding record must run exactly to the
    /// end) — and hand out a span over the payload. At most two headers per call (a padding record, then the
    /// message). The lease position goes to leasedUntil first (a plain store on the consumer's own line): a successor
    /// after a crash redelivers from head to there.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryReceiveSpsc()
    {
        ulong h = _head;
        for (int step = 0; step < 2; step++)
        {
            if (h == _cachedTail && !RefreshTail(h))
            {
                _head = h;
                PublishSpsc(); // going idle: give back what was released (and skipped) so a waiting producer sees it
                return false;
            }

            ulong offset = h & _mask;
            byte* r = _data + offset;
            int length = *(int*)r;
            int flags = *(int*)(r + 4);
            ulong size = ((ulong)(uint)length + QueueLayout.SpscHeaderSize + 7) & ~7UL;
            ulong available = _cachedTail - h;
            if (flags == QueueLayout.SpscFlagPadding)
            {
                if (length < 0 || size != _capacity - offset || size > available)
                {
                    throw _ring.CorruptRecord(h, h, _cachedTail, $"is a padding record of {length} bytes that does not run exactly to the end of the ring inside [head, tail)");
                }

                h += size;
                continue;
            }

            if (flags != 0 || (uint)length > (uint)_max || size > _capacity - offset || size > available)
            {
                throw _ring.CorruptRecord(h, h, _cachedTail, $"has length {length} and flags 0x{flags:x}: the record does not fit inside [head, tail) and the ring (max {_max} bytes, flags 0 or 1)");
            }

            _head = h;
            _leasePosition = h;
            _leaseEnd = h + size;
            _leaseLength = length;
            _leaseRedelivery = h < _redeliverUntil;
            *LeasedUntil = h + size;
            _leased = true;
            return true;
        }

        throw _ring.CorruptRecord(h, _head, _cachedTail, "follows a padding record although it is at the start of the ring (two padding records in a row)");
    }

    /// <summary>SPSC: re-reads tail (acquire) and validates it: it only grows, stays within one ring of head, on the 8-byte grid.</summary>
    private bool RefreshTail(ulong h)
    {
        ulong t = Volatile.Read(ref *Tail);
        if (t < _cachedTail || t - h > _capacity || (t & 7) != 0)
        {
            throw _ring.Corrupted("tail", QueueLayout.TailOffset, t, h, _cachedTail, "moved backwards, more than one ring ahead of head, or off the 8-byte grid");
        }

        _cachedTail = t;
        return t != h;
    }

    /// <summary>
    /// MPMC claim, under the consumer latch: first a redelivered record below readCursor (when the hint says there
    /// may be one), else the record at readCursor. PADDING and CONSUMED are stepped over; PRODUCING by a dead owner
    /// becomes PADDING (never delivered); PRODUCING by a live one blocks; COMMITTED is claimed (CAS → CONSUMING | me,
    /// then readCursor advanced with a release store); CONSUMING left at readCursor by a latch holder that died is given
    /// back and claimed as a redelivery. Bounded by the number of records between readCursor and tail.
    /// </summary>
    private bool TryReceiveMpmc(bool checkLiveness, long deadline, CancellationToken cancellationToken, out int blocker)
    {
        blocker = 0;
        int* latch = (int*)(_base + QueueLayout.ConsumerLatchOffset);
        if (!RobustLatch.TryEnter(latch, _me) &&
            RobustLatch.Enter(latch, _ring.Participants, LatchDeadline(deadline), "queue consumer", cancellationToken) == LatchEntry.TookOver)
        {
            MpmcRecovery.AnnounceRedelivery(_ring);
        }

        bool notify = false;
        try
        {
            if (Volatile.Read(ref *(int*)(_base + QueueLayout.RedeliveryHintOffset)) > 0 && TryClaimRedelivered())
            {
                return true;
            }

            ulong* cursor = (ulong*)(_base + QueueLayout.ReadCursorOffset);
            ulong rc = Volatile.Read(ref *cursor);
            for (long budget = (_ring.Capacity / QueueLayout.MpmcAlignment) + 4; budget > 0; budget--)
            {
                ulong t = Volatile.Read(ref *Tail); // acquire: pairs with the producers' release of tail
                if ((rc & 15) != 0 || rc > t || t - rc > _capacity)
                {
                    throw _ring.Corrupted("readCursor", QueueLayout.ReadCursorOffset, rc, Volatile.Read(ref *Head), t, "is off the 16-byte grid, past tail, or more than one ring behind it");
                }

                if (rc == t)
                {
                    return false;
                }

                byte* r = _data + (rc & _mask);
                long* controlWord = (long*)(r + QueueLayout.MpmcControlOffset);
                long control = Volatile.Read(ref *controlWord);
                int state = QueueLayout.StateOf(control);
                int reserved = *(int*)(r + QueueLayout.MpmcReservedOffset);
                ulong size = MpmcRecovery.RecordSize(reserved);
                if (!MpmcRecovery.Fits(_ring, reserved, state, size, rc, t))
                {
                    throw _ring.CorruptRecord(rc, Volatile.Read(ref *Head), t, $"spans {reserved} bytes in state {state}: the record does not fit inside [readCursor, tail) and the ring (max {_max} bytes)");
                }

                int owner = QueueLayout.OwnerOf(control);
                switch (state)
                {
                    case QueueLayout.StatePadding:
                    case QueueLayout.StateConsumed:
                        rc += size;
                        Volatile.Write(ref *cursor, rc);
                        notify = true;
                        continue;
                    case QueueLayout.StateProducing:
                        if (checkLiveness && owner != _me && _ring.Participants.Check(owner) == ShmParticipantLiveness.Dead)
                        {
                            if (Interlocked.CompareExchange(ref *controlWord, QueueLayout.Control(QueueLayout.StatePadding, 0, 0), control) == control)
                            {
                                Interlocked.Increment(ref *Counter(QueueLayout.AbandonedRecordsOffset));
                            }

                            continue;
                        }

                        blocker = owner;
                        return false;
                    case QueueLayout.StateCommitted:
                    {
                        int length = *(int*)r;
                        if ((uint)length > (uint)reserved)
                        {
                            throw _ring.CorruptRecord(rc, Volatile.Read(ref *Head), t, $"is committed with length {length} beyond the {reserved} bytes it spans");
                        }

                        // Nobody else writes a COMMITTED record at readCursor while we hold the latch (its producer is done,
                        // recoverers need the latch), so the claim is a plain store; the release store of readCursor
                        // orders it before the cursor moves past the record.
                        long claimed = QueueLayout.Control(QueueLayout.StateConsuming, QueueLayout.FlagsOf(control), _me);
                        Volatile.Write(ref *controlWord, claimed);
                        Volatile.Write(ref *cursor, rc + size);
                        Claimed(rc, length, claimed);
                        return true;
                    }

                    case QueueLayout.StateConsuming:
                        if (owner != _me && _ring.Participants.Check(owner) == ShmParticipantLiveness.Dead)
                        {
                            // Left by a latch holder that died between its claim and the cursor's advance.
                            long given = QueueLayout.Control(QueueLayout.StateCommitted, QueueLayout.FlagsOf(control) | QueueLayout.FlagRedelivered, 0);
                            Interlocked.CompareExchange(ref *controlWord, given, control);
                            continue;
                        }

                        rc += size; // a live holder (cannot happen with a sound latch): step over it, it will be released
                        Volatile.Write(ref *cursor, rc);
                        continue;
                    default:
                        throw _ring.CorruptRecord(rc, Volatile.Read(ref *Head), t, $"has the unknown state {state} (control 0x{control:x16})");
                }
            }

            throw _ring.Corrupted("readCursor", QueueLayout.ReadCursorOffset, rc, Volatile.Read(ref *Head), Volatile.Read(ref *Tail), "did not reach tail within the number of records the ring can hold");
        }
        finally
        {
            RobustLatch.Exit(latch, _me);
            if (notify)
            {
                Interlocked.MemoryBarrier();
                EventCount.Notify(NotEmpty); // other consumers may have been blocked behind the padding
            }
        }
    }

    /// <summary>
    /// MPMC, under the consumer latch: walks [head, readCursor) for a COMMITTED record (given back by a dead
    /// consumer) and claims it. A header counts only if head has not passed it (re-read after the header); the
    /// walk restarts from the new head a few times at most, then gives up until the next call. A walk that reaches
    /// readCursor finding nothing resets the hint.
    /// </summary>
    private bool TryClaimRedelivered()
    {
        int* hint = (int*)(_base + QueueLayout.RedeliveryHintOffset);
        int observed = Volatile.Read(ref *hint);
        ulong rc = Volatile.Read(ref *(ulong*)(_base + QueueLayout.ReadCursorOffset));
        ulong x = Volatile.Read(ref *Head);
        int restarts = 0;
        for (long budget = (_ring.Capacity / QueueLayout.MpmcAlignment) + 4; budget > 0 && x < rc; budget--)
        {
            if (rc - x > _capacity || (x & 15) != 0)
            {
                return false;
            }

            byte* r = _data + (x & _mask);
            long* controlWord = (long*)(r + QueueLayout.MpmcControlOffset);
            long control = Volatile.Read(ref *controlWord);
            int reserved = Volatile.Read(ref *(int*)(r + QueueLayout.MpmcReservedOffset));
            int length = Volatile.Read(ref *(int*)r);
            ulong h = Volatile.Read(ref *Head);
            if (h > x)
            {
                if (++restarts > 8)
                {
                    return false;
                }

                x = h;
                continue;
            }

            int state = QueueLayout.StateOf(control);
            ulong size = MpmcRecovery.RecordSize(reserved);
            if (!MpmcRecovery.Fits(_ring, reserved, state, size, x, rc))
            {
                throw _ring.CorruptRecord(x, h, rc, $"spans {reserved} bytes in state {state} below readCursor");
            }

            if (state == QueueLayout.StateCommitted && (uint)length <= (uint)reserved)
            {
                long claimed = QueueLayout.Control(QueueLayout.StateConsuming, QueueLayout.FlagsOf(control) | QueueLayout.FlagRedelivered, _me);
                if (Interlocked.CompareExchange(ref *controlWord, claimed, control) == control)
                {
                    int left = Interlocked.Decrement(ref *hint);
                    if (left < 0)
                    {
                        Interlocked.CompareExchange(ref *hint, 0, left);
                    }

                    Claimed(x, length, claimed);
                    return true;
                }
            }

            x += size;
        }

        if (x >= rc)
        {
            Interlocked.CompareExchange(ref *hint, 0, observed);
        }

        return false;
    }

    private void Claimed(ulong position, int length, long control)
    {
        _leasePosition = position;
        _leaseLength = length;
        _leaseControl = control;
        _leaseRedelivery = (QueueLayout.FlagsOf(control) & QueueLayout.FlagRedelivered) != 0;
        _leased = true;
        *Counter(QueueLayout.MessagesOutOffset) += 1; // under the consumer latch
        *Counter(QueueLayout.BytesOutOffset) += length;
        if (_leaseRedelivery)
        {
            *Counter(QueueLayout.RedeliveriesOffset) += 1;
        }
    }

    private static long LatchDeadline(long deadline)
    {
        long cap = MonotonicClock.Now + LatchWaitCap;
        return deadline < cap ? deadline : cap;
    }

    /// <summary>
    /// Releases the message in flight. SPSC: the local head moves past it, counters on the consumer's own line;
    /// published now or later. MPMC: CONSUMING | me → CONSUMED (release store: our reads are done), then head is
    /// advanced over released records, now or at the next publication.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ReleaseCore(bool publish)
    {
        _leased = false;
        if (!_mpmc)
        {
            _head = _leaseEnd;
            *Counter(QueueLayout.MessagesOutOffset) += 1;
            *Counter(QueueLayout.BytesOutOffset) += _leaseLength;
            if (_leaseRedelivery)
            {
                *Counter(QueueLayout.RedeliveriesOffset) += 1;
            }

            if (publish)
            {
                PublishSpsc();
            }

            return;
        }

        // Only this live consumer changes a CONSUMING | me record (recoverers change CONSUMING | dead): a release store,
        // after our reads of the payload. Head moves past it by CAS (AdvanceHead), which is also the full fence before
        // the NOT-FULL waiter check.
        long* controlWord = (long*)(_data + (_leasePosition & _mask) + QueueLayout.MpmcControlOffset);
        Volatile.Write(ref *controlWord, QueueLayout.Control(QueueLayout.StateConsumed, QueueLayout.FlagsOf(_leaseControl), 0));
        if (publish)
        {
            _pendingPublish = false;
            MpmcRecovery.AdvanceHead(_ring);
        }
        else
        {
            _pendingPublish = true;
        }
    }

    /// <summary>
    /// Leaves the message in flight in the queue (a copying receive could not deliver it). SPSC: head stays before
    /// it. MPMC: given back (CAS → COMMITTED | REDELIVERED, hint + 1) for the next receive.
    /// </summary>
    private void PutBack()
    {
        _leased = false;
        if (!_mpmc)
        {
            return;
        }

        long* controlWord = (long*)(_data + (_leasePosition & _mask) + QueueLayout.MpmcControlOffset);
        long given = QueueLayout.Control(QueueLayout.StateCommitted, QueueLayout.FlagsOf(_leaseControl) | QueueLayout.FlagRedelivered, 0);
        if (Interlocked.CompareExchange(ref *controlWord, given, _leaseControl) == _leaseControl)
        {
            Interlocked.Increment(ref *(int*)(_base + QueueLayout.RedeliveryHintOffset));
            EventCount.Notify(NotEmpty);
        }
    }

    private void PublishCore()
    {
        if (!_mpmc)
        {
            PublishSpsc();
        }
        else if (_pendingPublish)
        {
            _pendingPublish = false;
            MpmcRecovery.AdvanceHead(_ring);
        }
    }

    /// <summary>
    /// SPSC publication of head: Interlocked.Exchange — the release that pairs with the producer's acquire load of
    /// head (our reads of the records below it are done), and the full fence before the load of the NOT-FULL waiter
    /// count (Dekker pair with <see cref="EventCount.PrepareWait"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PublishSpsc()
    {
        if (_head == _publishedHead)
        {
            return;
        }

        Interlocked.Exchange(ref *Head, _head);
        _publishedHead = _head;
        EventCount.Notify(NotFull);
    }

    /// <summary>Whether a message may be there (loads only: the spin phase's probe).</summary>
    private bool Probe()
    {
        if (!_mpmc)
        {
            return Volatile.Read(ref *Tail) != _head;
        }

        if (Volatile.Read(ref *(int*)(_base + QueueLayout.RedeliveryHintOffset)) > 0)
        {
            return true;
        }

        ulong rc = Volatile.Read(ref *(ulong*)(_base + QueueLayout.ReadCursorOffset));
        if (rc == Volatile.Read(ref *Tail))
        {
            return false;
        }

        long control = Volatile.Read(ref *(long*)(_data + (rc & _mask & ~15UL) + QueueLayout.MpmcControlOffset));
        return QueueLayout.StateOf(control) != QueueLayout.StateProducing;
    }
}
