using HdrHistogram;

namespace ShmKit.Bench;

/// <summary>The figures of one transport x workload: one value per timed round, and every round trip for latency.</summary>
internal sealed class BenchCell(string transport, BenchWorkload workload)
{
    /// <summary>Round trips above this are recorded as this (10 s, in ns).</summary>
    private const long HighestNanoseconds = 10_000_000_000;

    internal string Transport { get; } = transport;

    internal BenchWorkload Workload { get; } = workload;

    /// <summary>Per-round values in the workload's unit (µs per round trip, msg/s, GB/s).</summary>
    internal List<double> Rounds { get; } = [];

    /// <summary>Every timed round trip, in ns (latency only).</summary>
    internal LongHistogram? RoundTrips { get; } = workload.IsLatency() ? new LongHistogram(HighestNanoseconds, 3) : null;

    internal bool Pinned { get; set; } = true;

    /// <summary>lock-2p: per round, the share of the increments the host made (0..1); empty for the other workloads.</summary>
    internal List<double> HostShares { get; } = [];

    /// <summary>lock-2p: the median of <see cref="HostShares"/>; null without shares.</summary>
    internal double? MedianHostShare => HostShares.Count == 0 ? null : MedianOf(HostShares);

    internal long Messages { get; set; }

    internal double Min => Rounds.Count == 0 ? 0 : Rounds.Min();

    internal double Max => Rounds.Count == 0 ? 0 : Rounds.Max();

    internal double Median => Rounds.Count == 0 ? 0 : MedianOf(Rounds);

    /// <summary>max/min over rounds above 1.5: the row moved too much to trust one run's median (VM placement noise).</summary>
    internal bool Noisy => Rounds.Count > 1 && Min > 0 && Max / Min > 1.5;

    internal void Record(long roundTripTicks)
    {
        long ns = (long)(roundTripTicks * (1e9 / System.Diagnostics.Stopwatch.Frequency));
        RoundTrips!.RecordValue(Math.Clamp(ns, 1, HighestNanoseconds));
    }

    /// <summary>A percentile of the individual round trips, in µs (latency rows only).</summary>
    internal double? Percentile(double percentile) =>
        RoundTrips is null || RoundTrips.TotalCount == 0 ? null : RoundTrips.GetValueAtPercentile(percentile) / 1000.0;

    internal double? MaxRoundTrip => RoundTrips is null || RoundTrips.TotalCount == 0 ? null : RoundTrips.GetMaxValue() / 1000.0;

    /// <summary>The median of a non-empty sequence (the mean of the middle two for an even count).</summary>
    internal static double MedianOf(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}

/// <summary>A whole run: the machine, every cell, and notes (unpinned, skipped rows).</summary>
internal sealed class BenchRun
{
    internal int Cpus { get; init; } = Environment.ProcessorCount;

    internal string Os { get; init; } = System.Runtime.InteropServices.RuntimeInformation.OSDescription;

    internal string Runtime { get; init; } = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;

    internal List<BenchCell> Cells { get; } = [];

    internal List<string> Notes { get; } = [];

    internal TimeSpan Duration { get; set; }

    internal BenchCell? Find(string transport, BenchWorkload workload) =>
        Cells.FirstOrDefault(c => c.Transport == transport && c.Workload == workload && c.Rounds.Count > 0);
}
