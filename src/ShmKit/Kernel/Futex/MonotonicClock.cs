using System.Diagnostics;
using System.Runtime.CompilerServices;
using ShmKit.Interop;

namespace ShmKit;

/// <summary>
/// Absolute deadlines on CLOCK_MONOTONIC, the clock FUTEX_WAIT_BITSET and futex_waitv measure absolute timeouts on.
/// A deadline is a <see cref="Stopwatch.GetTimestamp"/> value: on Linux that is clock_gettime(CLOCK_MONOTONIC) in
/// nanoseconds (dotnet/runtime src/native/libs/System.Native/pal_time.c), so it converts to a timespec with no
/// offset. <see cref="Infinite"/> (long.MaxValue) means no deadline.
/// </summary>
internal static unsafe class MonotonicClock
{
    /// <summary>No deadline.</summary>
    internal const long Infinite = long.MaxValue;

    private const long NanosecondsPerSecond = 1_000_000_000;

    /// <summary>True when Stopwatch ticks are nanoseconds (always on Linux; checked once, converted otherwise).</summary>
    private static readonly bool s_ticksAreNanoseconds = Stopwatch.Frequency == NanosecondsPerSecond;

    /// <summary>Now, as a deadline value.</summary>
    internal static long Now
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Stopwatch.GetTimestamp();
    }

    /// <summary>
    /// The deadline <paramref name="timeout"/> from now: null or <see cref="Timeout.InfiniteTimeSpan"/> is
    /// <see cref="Infinite"/>; zero is now (an immediate timeout); far-away deadlines saturate to Infinite.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative, other than -1 ms.</exception>
    internal static long DeadlineAfter(TimeSpan? timeout)
    {
        if (timeout is not TimeSpan t || t == Timeout.InfiniteTimeSpan)
        {
            return Infinite;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(t, TimeSpan.Zero, nameof(timeout));
        long ticks = s_ticksAreNanoseconds
            ? (t.Ticks > long.MaxValue / 100 ? long.MaxValue : t.Ticks * 100)
            : (long)Math.Min(long.MaxValue, (double)t.Ticks * Stopwatch.Frequency / TimeSpan.TicksPerSecond);
        long now = Now;
        return ticks >= Infinite - now ? Infinite : now + ticks;
    }

    /// <summary>Time left until <paramref name="deadline"/> (zero when past; <see cref="Timeout.InfiniteTimeSpan"/> for Infinite).</summary>
    internal static TimeSpan Remaining(long deadline)
    {
        if (deadline == Infinite)
        {
            return Timeout.InfiniteTimeSpan;
        }

        long left = deadline - Now;
        return left <= 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(0, left);
    }

    /// <summary>The earlier of two deadlines.</summary>
    internal static long Min(long a, long b) => a < b ? a : b;

    /// <summary>A deadline <paramref name="milliseconds"/> after <paramref name="from"/>, capped at <paramref name="cap"/>.</summary>
    internal static long Slice(long from, int milliseconds, long cap)
    {
        long ticks = Stopwatch.Frequency / 1000 * milliseconds;
        return from >= cap - ticks ? cap : from + ticks;
    }

    /// <summary>Writes <paramref name="deadline"/> (not Infinite) as an absolute CLOCK_MONOTONIC timespec.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ToTimespec(long deadline, Sem.timespec* ts)
    {
        long ns = s_ticksAreNanoseconds ? deadline : (long)((Int128)deadline * NanosecondsPerSecond / Stopwatch.Frequency);
        if (ns < 0)
        {
            ns = 0;
        }

        ts->tv_sec = ns / NanosecondsPerSecond;
        ts->tv_nsec = ns % NanosecondsPerSecond;
    }
}
