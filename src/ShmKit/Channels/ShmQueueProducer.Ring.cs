using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>The producer's side of the ring protocol (SPSC and MPMC), called with the gate entered.</summary>
public sealed unsafe partial class ShmQueueProducer
{
    private const long LatchWaitCap = 10L * 1_000_000_000; // Try calls wait at most 10 s for a latch a live process holds

    /// <summary>The payload of the reservation in flight.</summary>
    private byte* ReservedPayload => _data + (_reservedAt & _mask) + (_mpmc ? QueueLayout.MpmcHeaderSize : QueueLayout.SpscHeaderSize);

    private long* Counter(int offset) => (long*)(_base + offset);

    /// <summary>Reserves ring space if there is room now (no wait for room; MPMC waits for the latch up to the deadline).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryReserveCore(int length, long deadline, CancellationToken cancellationToken, out ShmQueueWriteLease lease)
    {
        bool ok = _mpmc ? TryReserveMpmc(length, deadline, cancellationToken) : TryReserveSpsc(length);
        if (!ok)
        {
            lease = default;
            return false;
        }

        _reservedLength = length;
        _leased = true;
        lease = new ShmQueueWriteLease(this, new Span<byte>(ReservedPayload, length), ++_leaseId);
        return true;
    }

    /// <summary>
    /// SPSC: need = align8(8 + length), plus padding to the end of the ring when the record would cross it (a record
    /// never wraps). Room is checked against the cached head; only when that looks full is head re-read (acquire:
    /// pairs with the consumer's release of head, so the bytes below it are no longer read). Nothing is published:
    /// a padding header is written beyond the published tail, where the consumer does not look.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryReserveSpsc(int length)
    {
        ulong need = (ulong)(QueueLayout.SpscHeaderSize + length + 7) & ~7UL;
        ulong t = _tail;
        ulong offset = t & _mask;
        ulong pad = offset + need > _capacity ? _capacity - offset : 0;
        ulong end = t + pad + need;
        if (end - _cachedHead > _capacity && !RefreshHead(end))
        {
            PublishCore(); // a full ring with unpublished commits would wait for a consumer that cannot see them
            return false;
        }

        if (pad != 0)
        {
            byte* p = _data + offset;
            *(int*)p = (int)pad - QueueLayout.SpscHeaderSize;
            *(int*)(p + 4) = QueueLayout.SpscFlagPadding;
        }

        _reservedAt = t + pad;
        return true;
    }

    /// <summary>SPSC: re-reads head (acquire) and validates it: it only grows, never passes what was published, stays aligned.</summary>
    private bool RefreshHead(ulong end)
    {
        ulong h = Volatile.Read(ref *Head);
        if (h < _cachedHead || h > _publishedTail || (h & 7) != 0)
        {
            throw _ring.Corrupted("head", QueueLayout.HeadOffset, h, _cachedHead, _publishedTail,
                "moved backwards, past the published tail, or off the 8-byte grid");
        }

        _cachedHead = h;
        return end - h <= _capacity;
    }

    /// <summary>
    /// MPMC: under the producer latch, read tail (acquire), check room against head (re-read when the cached value
    /// looks full), write the padding header (if the record would cross the end) and the record header
    /// {length, reserved, PRODUCING | me}, then advance tail with a release store (pairs with the consumers' acquire
    /// load of tail: every header below tail is complete). Every intermediate state is safe if this process dies:
    /// before the tail store nothing is visible; after it, the record is PRODUCING with a dead owner and becomes
    /// padding.
    /// </summary>
    private bool TryReserveMpmc(int length, long deadline, CancellationToken cancellationToken)
    {
        int* latch = (int*)(_base + QueueLayout.ProducerLatchOffset);
        if (!RobustLatch.TryEnter(latch, _me))
        {
            RobustLatch.Enter(latch, _ring.Participants, LatchDeadline(deadline), "queue producer", cancellationToken);
        }

        try
        {
            ulong need = (ulong)(QueueLayout.MpmcHeaderSize + length + 15) & ~15UL;
            ulong t = Volatile.Read(ref *Tail);
            if ((t & 15) != 0 || t < _cachedHead)
            {
                throw _ring.Corrupted("tail", QueueLayout.TailOffset, t, _cachedHead, t, "is off the 16-byte grid or behind head");
            }

            ulong offset = t & _mask;
            ulong pad = offset + need > _capacity ? _capacity - offset : 0;
            ulong end = t + pad + need;
            if (end - _cachedHead > _capacity)
            {
                ulong h = Volatile.Read(ref *Head);
                if (h < _cachedHead || h > t || (h & 15) != 0 || t - h > _capacity)
                {
                    throw _ring.Corrupted("head", QueueLayout.HeadOffset, h, _cachedHead, t, "moved backwards, past tail, or off the 16-byte grid");
                }

                _cachedHead = h;
                if (end - h > _capacity)
                {
                    return false;
                }
            }

            if (pad != 0)
            {
                byte* p = _data + offset;
                *(int*)p = 0;
                *(int*)(p + QueueLayout.MpmcReservedOffset) = (int)pad - QueueLayout.MpmcHeaderSize;
                Volatile.Write(ref *(long*)(p + QueueLayout.MpmcControlOffset), QueueLayout.Control(QueueLayout.StatePadding, 0, 0));
            }

            byte* r = _data + ((t + pad) & _mask);
            *(int*)r = length;
            *(int*)(r + QueueLayout.MpmcReservedOffset) = length;
            Volatile.Write(ref *(long*)(r + QueueLayout.MpmcControlOffset), QueueLayout.Control(QueueLayout.StateProducing, 0, _me));
            Volatile.Write(ref *Tail, end);
            _reservedAt = t + pad;
            *Counter(QueueLayout.MessagesInOffset) += 1; // MPMC counts reservations (bytes reserved), under the producer latch; abandoned ones are taken back
            *Counter(QueueLayout.BytesInOffset) += length;
            return true;
        }
        finally
        {
            RobustLatch.Exit(latch, _me);
        }
    }

    private static long LatchDeadline(long deadline)
    {
        long cap = MonotonicClock.Now + LatchWaitCap;
        return deadline < cap ? deadline : cap;
    }

    /// <summary>
    /// Commits the reservation. SPSC: write the record header, advance the local tail, count; publish if asked.
    /// MPMC: write the committed length, then exchange the control word to COMMITTED (a full fence, so the payload
    /// and length are visible to a consumer that reads COMMITTED with an acquire load), wake sleeping consumers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CommitCore(int length, bool publish)
    {
        _leased = false;
        byte* r = _data + (_reservedAt & _mask);
        if (!_mpmc)
        {
            *(int*)r = length;
            *(int*)(r + 4) = 0;
            _tail = _reservedAt + ((ulong)(QueueLayout.SpscHeaderSize + length + 7) & ~7UL);
            *Counter(QueueLayout.MessagesInOffset) += 1; // plain: the one producer writes its own line
            *Counter(QueueLayout.BytesInOffset) += length;
            if (publish)
            {
                PublishSpsc();
            }

            return;
        }

        // Only this live producer changes a PRODUCING | me record (recoverers change PRODUCING | dead), so the commit is
        // a plain exchange: the release that pairs with the consumers' acquire load of the control word (payload and
        // length complete), and the full fence before the load of the NOT-EMPTY waiter count.
        *(int*)r = length;
        Interlocked.Exchange(ref *(long*)(r + QueueLayout.MpmcControlOffset), QueueLayout.Control(QueueLayout.StateCommitted, 0, 0));
        if (publish)
        {
            _pendingNotify = false;
            EventCount.Notify(NotEmpty);
        }
        else
        {
            _pendingNotify = true;
        }
    }

    /// <summary>Abandons the reservation: SPSC nothing was visible; MPMC the record becomes padding (CAS), and sleepers blocked on it are woken.</summary>
    private void AbandonCore()
    {
        _leased = false;
        if (!_mpmc)
        {
            return;
        }

        byte* r = _data + (_reservedAt & _mask);
        long producing = QueueLayout.Control(QueueLayout.StateProducing, 0, _me);
        _ = Interlocked.CompareExchange(ref *(long*)(r + QueueLayout.MpmcControlOffset), QueueLayout.Control(QueueLayout.StatePadding, 0, 0), producing);
        EventCount.Notify(NotEmpty);
        int* latch = (int*)(_base + QueueLayout.ProducerLatchOffset);
        if (RobustLatch.TryEnter(latch, _me) || TryEnterLatchBriefly(latch))
        {
            *Counter(QueueLayout.MessagesInOffset) -= 1; // the counters are written under the producer latch only
            *Counter(QueueLayout.BytesInOffset) -= _reservedLength;
            RobustLatch.Exit(latch, _me);
        }
    }

    private bool TryEnterLatchBriefly(int* latch)
    {
        try
        {
            RobustLatch.Enter(latch, _ring.Participants, MonotonicClock.Now + 1_000_000_000, "queue producer", default);
            return true;
        }
        catch (TimeoutException)
        {
            return false; // statistics only
        }
    }

    /// <summary>Publishes what was committed without publishing.</summary>
    private void PublishCore()
    {
        if (!_mpmc)
        {
            PublishSpsc();
        }
        else if (_pendingNotify)
        {
            _pendingNotify = false;
            Interlocked.MemoryBarrier();
            EventCount.Notify(NotEmpty);
        }
    }

    /// <summary>
    /// SPSC publication: Interlocked.Exchange of tail — the release that pairs with the consumer's acquire load of
    /// tail (every record below it is complete), and a full fence before the load of the NOT-EMPTY waiter count
    /// (the Dekker pair with <see cref="EventCount.PrepareWait"/>). No system call unless a consumer sleeps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PublishSpsc()
    {
        if (_tail == _publishedTail)
        {
            return;
        }

        Interlocked.Exchange(ref *Tail, _tail);
        _publishedTail = _tail;
        EventCount.Notify(NotEmpty);
    }

    /// <summary>Whether a record of <paramref name="length"/> bytes would fit now (loads only: the spin phase's probe).</summary>
    private bool ProbeRoom(int length)
    {
        ulong need;
        ulong t;
        if (_mpmc)
        {
            need = (ulong)(QueueLayout.MpmcHeaderSize + length + 15) & ~15UL;
            t = Volatile.Read(ref *Tail);
        }
        else
        {
            need = (ulong)(QueueLayout.SpscHeaderSize + length + 7) & ~7UL;
            t = _tail;
        }

        ulong offset = t & _mask;
        ulong pad = offset + need > _capacity ? _capacity - offset : 0;
        return t + pad + need - Volatile.Read(ref *Head) <= _capacity;
    }

    /// <summary>Ring bytes free by the last head seen (for the fail-fast message).</summary>
    private long FreeBytes()
    {
        ulong t = _mpmc ? Volatile.Read(ref *Tail) : _tail;
        ulong used = t - Volatile.Read(ref *Head);
        return used > _capacity ? 0 : (long)(_capacity - used);
    }
}
