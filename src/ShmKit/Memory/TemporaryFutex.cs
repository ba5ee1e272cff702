using System.Diagnostics;
using ShmKit.Interop;

namespace ShmKit;

/// <summary>
/// TEMPORARY seam (issue 8, branch h6-managed): futex wait and wake on 32-bit words in shared memory, for the
/// Memory/ layer's two waits (an opener waiting for a header to become Ready, a creator waiting on a directory
/// entry another process is constructing). At merge the lead replaces the calls with helper h5's Kernel/Futex
/// (<c>Futex.Wait</c>/<c>Futex.Wake</c>, cancellation through futex_waitv) and deletes this file and
/// (its declarations are already h5's Interop/Interop.Futex.cs).
/// </summary>
/// <remarks>
/// Deadlines are absolute <see cref="Stopwatch.GetTimestamp"/> values, which on Linux are CLOCK_MONOTONIC
/// nanoseconds (FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC timespec). <see cref="long.MaxValue"/> means
/// no deadline. Cancellation is NOT wired into the kernel wait here: callers wait in slices of at most
/// <see cref="MaxSlice"/> and check their token between slices (the documented interim; h5's futex_waitv wait
/// replaces it). The caller must hold a lease on the mapping for the whole wait: the kernel pins nothing while a
/// thread sleeps on the word.
/// </remarks>
internal static unsafe class TemporaryFutex
{
    /// <summary>The longest single kernel wait: the latency bound for cancellation and liveness re-checks.</summary>
    internal static readonly TimeSpan MaxSlice = TimeSpan.FromMilliseconds(100);

    /// <summary>No deadline.</summary>
    internal const long Infinite = long.MaxValue;

    /// <summary>
    /// Sleeps while <c>*word == expected</c>, until woken or <paramref name="deadline"/>. Returns at once when the word
    /// already differs. Spurious returns are possible: the caller re-reads the word and decides.
    /// </summary>
    /// <returns>False when the deadline passed; true otherwise (woken, value changed, or interrupted).</returns>
    internal static bool Wait(int* word, int expected, long deadline)
    {
        if (deadline == Infinite)
        {
            return Call(word, expected, null) != Errno.ETIMEDOUT;
        }

        long ns = ToNanoseconds(deadline);
        Sem.timespec ts;
        ts.tv_sec = ns / 1_000_000_000;
        ts.tv_nsec = ns % 1_000_000_000;
        return Call(word, expected, &ts) != Errno.ETIMEDOUT;
    }

    /// <summary>
    /// Waits like <see cref="Wait"/>, but never longer than <see cref="MaxSlice"/> past now, so the caller can check
    /// its cancellation token and the liveness of whoever it waits for.
    /// </summary>
    /// <returns>False when the overall <paramref name="deadline"/> passed.</returns>
    internal static bool WaitSlice(int* word, int expected, long deadline)
    {
        long sliceEnd = Stopwatch.GetTimestamp() + (long)(MaxSlice.TotalSeconds * Stopwatch.Frequency);
        bool last = deadline <= sliceEnd;
        bool woken = Wait(word, expected, last ? deadline : sliceEnd);
        return woken || !last;
    }

    /// <summary>Wakes every waiter on <paramref name="word"/>. EFAULT (word no longer mapped) is ignored.</summary>
    internal static void WakeAll(int* word) =>
        _ = FutexCalls.futex(word, FutexCalls.FUTEX_WAKE, int.MaxValue, null, null, 0);

    /// <summary>A deadline <paramref name="timeout"/> from now; null or infinite → <see cref="Infinite"/>.</summary>
    internal static long DeadlineAfter(TimeSpan? timeout)
    {
        if (timeout is not { } t || t == Timeout.InfiniteTimeSpan)
        {
            return Infinite;
        }

        if (t < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), t, "The timeout must be zero or positive, or Timeout.InfiniteTimeSpan (or null) to wait forever.");
        }

        double ticks = t.TotalSeconds * Stopwatch.Frequency;
        long now = Stopwatch.GetTimestamp();
        return ticks >= long.MaxValue - now ? Infinite : now + (long)ticks;
    }

    /// <summary>True once <paramref name="deadline"/> has passed.</summary>
    internal static bool Passed(long deadline) => deadline != Infinite && Stopwatch.GetTimestamp() >= deadline;

    private static int Call(int* word, int expected, Sem.timespec* absolute)
    {
        while (true)
        {
            long r = FutexCalls.futex(word, FutexCalls.FUTEX_WAIT_BITSET, expected, absolute, null, FutexCalls.FUTEX_BITSET_MATCH_ANY);
            if (r == 0)
            {
                return 0;
            }

            int errno = Errno.Last;
            switch (errno)
            {
                case Errno.EINTR:
                    continue;
                case Errno.EAGAIN:
                case Errno.ETIMEDOUT:
                    return errno;
                default:
                    // EINVAL (misaligned word: a layout bug) or EFAULT (unmapped: a lifetime bug). Both are program
                    // errors, never caused by a peer (offsets are validated and leased before we get here).
                    throw new InvalidOperationException($"futex wait failed: {Errno.Describe(errno)} (errno {errno}).");
            }
        }
    }

    private static long ToNanoseconds(long timestamp) =>
        Stopwatch.Frequency == 1_000_000_000 ? timestamp : (long)((Int128)timestamp * 1_000_000_000 / Stopwatch.Frequency);
}
