namespace ShmKit;

/// <summary>
/// How a ShmKit primitive waits when it cannot proceed at once: how long it spins on the shared word before it
/// sleeps in the kernel. Spinning trades CPU for latency: it wins when the other side answers within about the cost
/// of a sleep plus a wake-up (tens of microseconds across CPUs), and is wasted otherwise.
/// </summary>
/// <remarks>
/// Spinning only loads the word (it never writes it while spinning), stops at once when a waiter is already parked
/// in the kernel, and is skipped on a machine with a single CPU, where the other side cannot run while this one
/// spins (there <see cref="BusySpin"/> yields between checks instead). Timeouts and cancellation are honoured by
/// every strategy.
/// </remarks>
public enum ShmWaitStrategy
{
    /// <summary>
    /// Spin briefly (about 30 µs, measured with the monotonic clock), then sleep in the kernel on the futex until
    /// woken. The default: the lowest latency when the other side answers soon, and no CPU and no wake-ups while a
    /// wait lasts longer.
    /// </summary>
    SpinThenBlock = 0,

    /// <summary>
    /// Sleep in the kernel at once. Costs one sleep and one wake-up per contended wait (≈ 40–60 µs for a hand-off
    /// between two CPUs), but never burns CPU: for waits that are usually long, or processes that share cores with
    /// busy work.
    /// </summary>
    Block = 1,

    /// <summary>
    /// Spin briefly, then keep checking with a yield of the CPU (sched_yield) between checks; never sleeps in the
    /// kernel. Lower latency than <see cref="SpinThenBlock"/> when the answer comes within a scheduler time slice,
    /// but a waiting thread stays runnable and consumes CPU whenever nothing else wants it.
    /// </summary>
    SpinThenYield = 2,

    /// <summary>
    /// Spin on the word until the wait ends; never yields or sleeps. The lowest latency (sub-microsecond hand-offs)
    /// at the price of a whole CPU per waiting thread for as long as it waits: only for dedicated cores.
    /// </summary>
    BusySpin = 3,
}
