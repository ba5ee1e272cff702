namespace ShmKit.Bench;

/// <summary>How long a run is: rounds and per-round message counts (identical for every transport of a kind).</summary>
/// <param name="Mode">quick (about 20 s on this 2-core VM, under 60 s when the machine is busy), full (a few minutes) or smoke (tests: tiny counts).</param>
/// <param name="Only">The transports to run; null for all.</param>
/// <param name="Workloads">The workloads to run; null for all. A transport that carries none of them does not run.</param>
internal sealed record BenchSettings(BenchMode Mode, IReadOnlyList<string>? Only = null, IReadOnlyList<BenchWorkload>? Workloads = null)
{
    /// <summary>The workloads of this run, in table order.</summary>
    internal BenchWorkload[] SelectedWorkloads =>
        Workloads is null || Workloads.Count == 0 ? BenchWorkloads.All : [.. BenchWorkloads.All.Where(Workloads.Contains)];

    /// <summary>Timed rounds per transport and workload (one untimed warm-up round comes first).</summary>
    internal int Rounds => Mode switch
    {
        BenchMode.Smoke => 1,
        BenchMode.Quick => 7,
        _ => 15,
    };

    /// <summary>
    /// No new round starts after this much time (from the start of the run): on a loaded machine a busy-spin side
    /// waits for a whole scheduler time slice whenever its partner is preempted, so fixed counts alone cannot bound
    /// the run. Rounds left out are reported as a note.
    /// </summary>
    internal TimeSpan TimeBudget => Mode switch
    {
        BenchMode.Smoke => TimeSpan.FromSeconds(30),
        BenchMode.Quick => TimeSpan.FromSeconds(35),
        _ => TimeSpan.FromSeconds(240),
    };

    /// <summary>
    /// Messages (or round trips, or lock-2p increments) per round. Busy-spin transports get more because each costs
    /// ~0.1 µs instead of ~60 µs (a blocking round trip across two vCPUs on this VM): every round lasts milliseconds,
    /// not seconds. lock-2p: ~20–50 ns per operation with a fast lock; with the SEM_UNDO semaphore every operation is
    /// two system calls and most hand the lock over through a sleeping process.
    /// </summary>
    internal int Count(BenchTransport transport, BenchWorkload workload)
    {
        bool spin = transport.IsSpin;
        int count = workload switch
        {
            BenchWorkload.Rtt64 => spin ? 100_000 : 2_000,
            BenchWorkload.Tput64 => spin ? 1_000_000 : 100_000,
            BenchWorkload.Tput4K => spin ? 65_536 : 16_384,
            BenchWorkload.Tput1M => spin ? 1_024 : 64,
            _ => spin ? 1_000_000 : 10_000,
        };
        return Mode switch
        {
            BenchMode.Smoke => workload == BenchWorkload.Tput1M ? 8 : Math.Max(count / 500, 64),
            BenchMode.Quick => count,
            _ => count * 2,
        };
    }
}

/// <summary>The run length.</summary>
internal enum BenchMode
{
    /// <summary>The default: 15 rounds, double counts.</summary>
    Full,

    /// <summary>--quick: 7 rounds.</summary>
    Quick,

    /// <summary>--smoke (hidden, for tests): one round of tiny counts.</summary>
    Smoke,
}
