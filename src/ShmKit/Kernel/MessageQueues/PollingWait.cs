using System.Diagnostics;
using ShmKit.Interop;

namespace ShmKit;

/// <summary>
/// The pause between two IPC_NOWAIT tries of a message queue wait that has a timeout or a cancellation token
/// (the kernel has no timed msgsnd or msgrcv). A few spins with yields first, for a partner that is about to
/// answer; then sleeps that double from <see cref="FirstSleepNanoseconds"/> to <see cref="MaxSleepNanoseconds"/>,
/// so a long wait costs about 200 wake-ups a second and a cancellation or deadline is noticed within one sleep.
/// Mutable struct: keep it in a local and pass it by reference.
/// </summary>
internal struct PollingWait
{
    /// <summary>The first sleep, after the spins.</summary>
    internal const long FirstSleepNanoseconds = 50_000;

    /// <summary>The longest sleep: the worst extra latency of a polled wait and of noticing a cancellation.</summary>
    internal const long MaxSleepNanoseconds = 5_000_000;

    /// <summary>
    /// Tries before the first sleep: SpinWait spins for the first 10 and yields the CPU (sched_yield) after that, which
    /// lets a partner on the same core answer. Measured on the shared 2-vCPU VM, 12 tries left a polled ping-pong
    /// between two threads at 75-230 µs per round trip (most answers fell into a sleep), 24 brought it to 17-19 µs.
    /// </summary>
    private const int SpinCount = 24;
    private const long NanosecondsPerTick = 1_000_000_000 / TimeSpan.TicksPerSecond;

    private readonly long _start;
    private readonly long _timeoutTicks;
    private SpinWait _spinner;
    private long _sleepNanoseconds;

    /// <summary>Starts the clock.</summary>
    /// <param name="timeout">How long the whole wait may take; null for no limit.</param>
    internal PollingWait(TimeSpan? timeout)
    {
        _start = Stopwatch.GetTimestamp();
        _timeoutTicks = timeout?.Ticks ?? long.MaxValue;
        _spinner = default;
        _sleepNanoseconds = FirstSleepNanoseconds;
    }

    /// <summary>
    /// Converts a public timeout argument: null and <see cref="Timeout.InfiniteTimeSpan"/> mean no limit; any other
    /// negative value is an error.
    /// </summary>
    internal static TimeSpan? Validate(TimeSpan? timeout, string parameterName)
    {
        if (timeout is not { } t || t == Timeout.InfiniteTimeSpan)
        {
            return null;
        }

        if (t < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(parameterName, t, "A timeout must be zero or positive, or Timeout.InfiniteTimeSpan (or null) to wait without a limit.");
        }

        return t;
    }

    /// <summary>Waits a little before the next try.</summary>
    /// <returns>False when the timeout has passed: stop trying.</returns>
    internal unsafe bool Pause()
    {
        long remainingNanoseconds = long.MaxValue;
        if (_timeoutTicks != long.MaxValue)
        {
            long remainingTicks = _timeoutTicks - Stopwatch.GetElapsedTime(_start).Ticks;
            if (remainingTicks <= 0)
            {
                return false;
            }

            // A timeout of centuries would overflow; anything above the longest sleep is the same here.
            remainingNanoseconds = remainingTicks > MaxSleepNanoseconds / NanosecondsPerTick
                ? MaxSleepNanoseconds
                : remainingTicks * NanosecondsPerTick;
        }

        if (_spinner.Count < SpinCount)
        {
            // sleep1Threshold -1: spin and yield, never Thread.Sleep(1) (a whole millisecond at least).
            _spinner.SpinOnce(sleep1Threshold: -1);
            return true;
        }

        long nanoseconds = Math.Min(_sleepNanoseconds, remainingNanoseconds);
        var duration = new Sem.timespec { tv_sec = nanoseconds / 1_000_000_000, tv_nsec = nanoseconds % 1_000_000_000 };

        // EINTR (a signal) only shortens the sleep; the caller tries again either way.
        _ = Msg.nanosleep(&duration, null);
        _sleepNanoseconds = Math.Min(_sleepNanoseconds * 2, MaxSleepNanoseconds);
        return true;
    }
}
