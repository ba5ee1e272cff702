using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>
/// The spin phase of a wait for one <see cref="ShmWaitStrategy"/>: a value on the waiter's stack, no allocation.
/// Use: <c>var spin = SpinPolicy.Start(strategy); while (!condition) { if (!spin.SpinOnce()) { block in the kernel; } }</c>.
/// The caller re-reads the shared word between calls with loads only (test before CAS) and stops spinning once it
/// sees a parked waiter (the lock word's WAITERS flag).
/// </summary>
/// <remarks>
/// The spin budget is time, not a count: <see cref="SpinDuration"/> (default 30 µs: about one futex sleep plus wake-up
/// across two vCPUs here, the "competitive spinning" rule of Karlin et al.), measured with the monotonic clock
/// (<see cref="Stopwatch.GetTimestamp"/>, a vDSO read of a few tens of ns) so it means the same on fast and slow CPUs.
/// Each step calls <see cref="Thread.SpinWait(int)"/> (normalized by the runtime to ≈ 37 ns per iteration) with a
/// doubling count capped at 64, so the clock is read a few hundred times at most. With one CPU there is no spin
/// phase.
/// </remarks>
internal struct SpinPolicy
{
    private const int MaxSpinIterations = 64;

    private static long s_spinTicks = Stopwatch.Frequency * 30 / 1_000_000;

    private readonly ShmWaitStrategy _strategy;
    private long _spinEnd;
    private int _iterations;

    private SpinPolicy(ShmWaitStrategy strategy)
    {
        _strategy = strategy;
        _spinEnd = 0;
        _iterations = 0;
    }

    /// <summary>The length of the spin phase (process-wide; default 30 µs).</summary>
    internal static TimeSpan SpinDuration
    {
        get => Stopwatch.GetElapsedTime(0, Volatile.Read(ref s_spinTicks));
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            Volatile.Write(ref s_spinTicks, (long)(value.TotalSeconds * Stopwatch.Frequency));
        }
    }

    /// <summary>False on a single-CPU machine: spinning there only delays the thread that would end the wait.</summary>
    internal static bool CanSpin { get; } = Environment.ProcessorCount > 1;

    /// <summary>True when the strategy ever sleeps in the kernel (SpinThenBlock, Block).</summary>
    internal readonly bool Blocks => _strategy is ShmWaitStrategy.SpinThenBlock or ShmWaitStrategy.Block;

    /// <summary>Starts a wait's spin phase. The clock is read on the first <see cref="SpinOnce"/>, not here.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static SpinPolicy Start(ShmWaitStrategy strategy) => new(strategy);

    /// <summary>
    /// Waits a little and returns true: the caller re-checks its condition and calls again. Returns false when the
    /// caller should now sleep in the kernel (the spin phase of SpinThenBlock is over, or Block); BusySpin and
    /// SpinThenYield never return false.
    /// </summary>
    internal bool SpinOnce()
    {
        ShmWaitStrategy strategy = _strategy;
        if (strategy == ShmWaitStrategy.Block)
        {
            return false;
        }

        if (!CanSpin)
        {
            if (strategy == ShmWaitStrategy.SpinThenBlock)
            {
                return false;
            }

            Thread.Yield();
            return true;
        }

        if (strategy == ShmWaitStrategy.BusySpin)
        {
            Thread.SpinWait(MaxSpinIterations);
            return true;
        }

        long now = Stopwatch.GetTimestamp();
        if (_spinEnd == 0)
        {
            _spinEnd = now + Volatile.Read(ref s_spinTicks);
        }

        if (now < _spinEnd)
        {
            _iterations = _iterations == 0 ? 1 : Math.Min(_iterations * 2, MaxSpinIterations);
            Thread.SpinWait(_iterations);
            return true;
        }

        if (strategy == ShmWaitStrategy.SpinThenYield)
        {
            Thread.Yield();
            return true;
        }

        return false;
    }

    /// <summary>Ends the spin phase early (the caller saw a parked waiter): the next <see cref="SpinOnce"/> of a blocking strategy returns false.</summary>
    internal void StopSpinning() => _spinEnd = 1;
}
