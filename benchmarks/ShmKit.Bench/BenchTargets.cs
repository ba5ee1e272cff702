using System.Globalization;

namespace ShmKit.Bench;

/// <summary>
/// A performance target from an issue: one row against a reference row of the same run and workload. The ratio is
/// row median ÷ reference median in the workload's own unit: for a throughput (msg/s, GB/s, ops/s) it must be at least
/// <see cref="Bound"/>, for a latency (µs per round trip) at most. Printed under the table, never asserted (timings
/// belong in benchmarks, not in pass/fail tests).
/// </summary>
/// <param name="Transport">The row.</param>
/// <param name="Workload">The workload.</param>
/// <param name="Reference">The row it is compared with.</param>
/// <param name="Bound">The ratio to reach: a minimum for throughput, a maximum for latency.</param>
/// <param name="Source">Where the target comes from ("issue 8").</param>
internal sealed record BenchTarget(string Transport, BenchWorkload Workload, string Reference, double Bound, string Source)
{
    /// <summary>
    /// The line for this target, or null when the row or its reference did not run. The verdict uses the median of the
    /// per-round ratios when both rows have the same rounds (round r of each ran back to back in the same vCPU
    /// placement, so that ratio is immune to a placement change in the middle of the run), else the ratio of medians.
    /// </summary>
    internal string? Evaluate(BenchRun run)
    {
        if (run.Find(Transport, Workload) is not { } cell || run.Find(Reference, Workload) is not { } reference || cell.Median <= 0 || reference.Median <= 0)
        {
            return null;
        }

        double ratio = cell.Median / reference.Median;
        double verdict = ratio;
        string perRound = string.Empty;
        if (cell.Rounds.Count == reference.Rounds.Count && cell.Rounds.Count > 1 && reference.Rounds.TrueForAll(r => r > 0))
        {
            var ratios = cell.Rounds.Zip(reference.Rounds, (x, y) => x / y).Order().ToArray();
            verdict = BenchCell.MedianOf(ratios);
            perRound = string.Create(CultureInfo.InvariantCulture,
                $"; round by round {BenchReport.Ratio(verdict)} median, {BenchReport.Significant(ratios[0])}..{BenchReport.Significant(ratios[^1])}");
        }

        bool latency = Workload.IsLatency();
        bool met = latency ? verdict <= Bound : verdict >= Bound;
        string what = latency ? "round trip" : Workload.Unit();
        string bound = (latency ? "at most " : "at least ") + BenchReport.Ratio(Bound);
        return string.Create(CultureInfo.InvariantCulture,
            $"target ({Source}): {Transport} {Workload.Name()} {what} is {BenchReport.Ratio(ratio)} {Reference}'s{perRound} ({bound}): {(met ? "met" : "NOT MET")}.");
    }
}

/// <summary>The targets the bench reports (issue 8's "Performance" section; issue 9's channel rows will add theirs).</summary>
internal static class BenchTargets
{
    internal static readonly BenchTarget[] All =
    [
        new("shm-mutex", BenchWorkload.Lock2P, "raw-c", 0.8, "issue 8"),
        new("shm-mutex", BenchWorkload.Lock2P, "shm-semaphore", 10, "issue 8"),
        new("shm-event", BenchWorkload.Rtt64, "raw-c", 1.5, "issue 8"),
        new("shm-event-blocking", BenchWorkload.Rtt64, "shm-semaphore", 1.1, "issue 8"),
    ];
}
