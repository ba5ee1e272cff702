using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>
/// An eventcount in shared memory (Vyukov; folly's EventCount with one change): the way one side sleeps until the
/// other publishes, while the publisher's fast path makes no system call. One 64-bit word: the waiter count in the
/// low 32 bits, the epoch in the high 32 bits; the epoch half (byte 4 of the word, little-endian) is the futex word.
/// </summary>
/// <remarks>
/// <para><b>Waiter</b> (<see cref="PrepareWait"/>): Interlocked increment of the count (a full fence), which returns
/// the epoch; re-check the condition (pairs with the publisher's fence: either the waiter sees the publication, or
/// the publisher sees the count); sleep on the epoch half with the epoch as the expected value (the kernel compares,
/// so a wake between the check and the sleep is not lost); after waking, <see cref="CancelWait"/>.</para>
/// <para><b>Publisher</b> (<see cref="Notify"/>): after its publication and a full fence, one load of the word; only
/// when the count is non-zero, CAS it to (epoch + 1, count 0) and FUTEX_WAKE all sleepers. Resetting the count at
/// every wake (folly lets each waiter decrement) is what makes a waiter killed while asleep harmless: its +1 is
/// dropped by the next wake, so it costs one spurious wake at most, never a system call per message forever.</para>
/// <para><b>Cancel</b>: a waiter that leaves without being woken (condition met, timeout, cancellation, a watched
/// process died) decrements the count only while the epoch is still the one it registered in; after a wake its
/// registration is gone already.</para>
/// <para>Every loop here is bounded (a hostile writer can make CASes fail forever): after a few failures the epoch is
/// bumped with an unconditional Interlocked.Add and all sleepers are woken, which is always safe.</para>
/// </remarks>
internal static unsafe class EventCount
{
    private const int MaxAttempts = 16;
    private const long EpochOne = 1L << 32;

    /// <summary>The futex word: the epoch half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int* EpochWord(long* word) => (int*)word + 1;

    /// <summary>Registers as a waiter (full fence) and returns the epoch to sleep on.</summary>
    internal static int PrepareWait(long* word) => (int)(Interlocked.Increment(ref *word) >>> 32);

    /// <summary>Withdraws a registration made in <paramref name="epoch"/>, if no wake has consumed it.</summary>
    internal static void CancelWait(long* word, int epoch)
    {
        for (int i = 0; i < MaxAttempts; i++)
        {
            long w = Volatile.Read(ref *word);
            if ((int)(w >>> 32) != epoch || (int)w == 0)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref *word, w - 1, w) == w)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Wakes the sleepers if there are any. The caller has made its publication visible with a full fence
    /// (Interlocked.Exchange of the index, or a CAS) just before: this is the load half of the Dekker pair with
    /// <see cref="PrepareWait"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Notify(long* word)
    {
        if ((int)Volatile.Read(ref *word) != 0)
        {
            WakeAll(word);
        }
    }

    /// <summary>Bumps the epoch (dropping every registration) and wakes every sleeper, whether or not any is registered.</summary>
    internal static void WakeAll(long* word)
    {
        bool bumped = false;
        for (int i = 0; i < MaxAttempts && !bumped; i++)
        {
            long w = Volatile.Read(ref *word);
            long next = (long)((ulong)w & 0xFFFF_FFFF_0000_0000UL) + EpochOne;
            bumped = Interlocked.CompareExchange(ref *word, next, w) == w;
        }

        if (!bumped)
        {
            Interlocked.Add(ref *word, EpochOne);
        }

        Futex.WakeAll(EpochWord(word));
    }
}
