namespace ShmKit;

/// <summary>
/// Waiting for a positive count word, as an <see cref="IShmWaitOperation"/>: the wait of <see cref="ShmSemaphore"/>
/// (take one unit: CAS c → c−1) and of <see cref="ShmEvent"/> (auto-reset: take the signal, 1 → 0; manual reset: only
/// see it set). No owner to watch: a count has none.
/// </summary>
/// <remarks>
/// <para><b>Words.</b> <c>count</c> (the futex word): changed only with Interlocked operations (waiters' CAS down,
/// the releaser's CAS or Exchange up), read with Volatile.Read. <c>sleepers</c>: Interlocked.Increment by a waiter
/// before it re-checks the count and sleeps, Interlocked.Decrement after the sleep; the releaser reads it after its own
/// full fence (the Interlocked update of the count).</para>
/// <para><b>No lost wake-up</b> (the store-then-load handshake, both sides fenced): the waiter increments sleepers
/// (full fence) and then reads the count and sleeps on the value it read, which the kernel compares again; the
/// releaser updates the count (full fence) and then reads sleepers. Either the releaser sees the sleeper and wakes
/// it, or the waiter sees the new count (or the kernel's compare fails with EAGAIN). A sleeper killed while it sleeps
/// leaves sleepers too high: later releases make a needless FUTEX_WAKE, never a lost one.</para>
/// <para><b>A consumed wake is handed on.</b> A waiter that leaves without taking (timeout, cancellation) after it
/// slept may have been the one a release woke; if a unit is left and others sleep, it wakes one of them.</para>
/// </remarks>
internal unsafe struct CountWait : IShmWaitOperation
{
    private const int MaxCasRetries = 64;

    private readonly int* _count;
    private readonly int* _sleepers;
    private readonly bool _consume;
    private bool _slept;

    /// <param name="count">The count word.</param>
    /// <param name="sleepers">The sleeper count word.</param>
    /// <param name="consume">True to take a unit (semaphore, auto-reset event); false to wait until it is positive (manual-reset event).</param>
    internal CountWait(int* count, int* sleepers, bool consume)
    {
        _count = count;
        _sleepers = sleepers;
        _consume = consume;
        _slept = false;
    }

    public readonly bool SpinIsUseful => !_consume || Volatile.Read(ref *_sleepers) <= 0;

    /// <summary>One attempt without waiting (test before CAS).</summary>
    public readonly bool TryComplete()
    {
        for (int i = 0; i < MaxCasRetries; i++)
        {
            int c = Volatile.Read(ref *_count);
            if (c <= 0)
            {
                return false;
            }

            if (!_consume || Interlocked.CompareExchange(ref *_count, c - 1, c) == c)
            {
                return true;
            }
        }

        return false; // the count keeps changing under us: sleep on whatever it is now
    }

    public readonly WatchTarget GetWatchTarget() => WatchTarget.None;

    public bool BeginSleep(out int* word, out int expected)
    {
        word = _count;
        Interlocked.Increment(ref *_sleepers);
        expected = Volatile.Read(ref *_count);
        if (expected > 0)
        {
            Interlocked.Decrement(ref *_sleepers);
            return false;
        }

        _slept = true;
        return true;
    }

    public readonly void EndSleep() => Interlocked.Decrement(ref *_sleepers);

    public readonly bool OnOwnerGone(in WatchTarget target) => false;

    public readonly void Leave()
    {
        if (_slept && _consume && Volatile.Read(ref *_count) > 0 && Volatile.Read(ref *_sleepers) > 0)
        {
            Futex.Wake(_count, 1);
        }
    }
}
