using System.Globalization;
using ScottPlot;

namespace ShmKit.Bench;

/// <summary>
/// The PNG of <c>--chart</c> (ScottPlot 5): round-trip percentile distributions on a log scale, and one throughput bar
/// chart (medians) per message size (log scale too: the transports differ by orders of magnitude). When lock-2p ran,
/// a third column: its operations per second (log scale) and the host's share of the increments per lock.
/// </summary>
internal static class BenchChart
{
    private const double Offset = 2;

    internal static void Write(BenchRun run, string path)
    {
        bool locks = run.Cells.Any(c => c.Workload == BenchWorkload.Lock2P && c.Rounds.Count > 0);
        var multiplot = new Multiplot();
        multiplot.AddPlots(locks ? 6 : 4);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(2, locks ? 3 : 2);

        var latency = multiplot.GetPlot(0);
        string[] labels = ["p50", "p90", "p99", "p99.9", "max"];
        double[] xs = [0, 1, 2, 3, 4];
        foreach (var cell in run.Cells.Where(c => c.Workload == BenchWorkload.Rtt64 && c.RoundTrips is { TotalCount: > 0 }))
        {
            double[] ys =
            [
                .. new[] { cell.Percentile(50), cell.Percentile(90), cell.Percentile(99), cell.Percentile(99.9), cell.MaxRoundTrip }
                    .Select(v => Math.Log10(Math.Max(v ?? 0.001, 0.001))),
            ];
            var line = latency.Add.Scatter(xs, ys);
            line.LegendText = cell.Transport;
            line.LineWidth = 2;
            line.MarkerSize = 7;
        }

        latency.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(xs, labels);
        latency.Axes.Left.TickGenerator = LogTicks();
        latency.Title("rtt-64: round trip, µs (log scale)");
        latency.ShowLegend(Edge.Right);

        Bars(multiplot.GetPlot(1), run, BenchWorkload.Tput64, "tput-64: M msg/s (log scale)", 1e-6);
        Bars(multiplot.GetPlot(2), run, BenchWorkload.Tput4K, "tput-4k: GB/s (log scale)", 1);
        Bars(multiplot.GetPlot(3), run, BenchWorkload.Tput1M, "tput-1m: GB/s (log scale)", 1);
        if (locks)
        {
            Bars(multiplot.GetPlot(4), run, BenchWorkload.Lock2P, "lock-2p: M ops/s (log scale)", 1e-6);
            Shares(multiplot.GetPlot(5), run);
        }

        multiplot.SavePng(path, locks ? 2400 : 1600, 1100);
    }

    /// <summary>lock-2p: the host's percentage of the increments per lock (50 = even; a barging lock is far from it).</summary>
    private static void Shares(Plot plot, BenchRun run)
    {
        var cells = run.Cells.Where(c => c.Workload == BenchWorkload.Lock2P && c.MedianHostShare is not null).ToList();
        var ticks = new List<Tick>();
        for (int i = 0; i < cells.Count; i++)
        {
            double share = cells[i].MedianHostShare!.Value;
            plot.Add.Bar(new Bar
            {
                Position = i,
                Value = share * 100,
                ValueBase = 0,
                FillColor = Colors.Category10[i % Colors.Category10.Length],
                Label = BenchReport.Split(share)[6..],
            });
            ticks.Add(new Tick(i, cells[i].Transport));
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. ticks]);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(25);
        plot.Axes.SetLimitsY(0, 110);
        plot.Title("lock-2p: host's share of the increments, % (host:peer)");
    }

    private static void Bars(Plot plot, BenchRun run, BenchWorkload workload, string title, double scale)
    {
        var cells = run.Cells.Where(c => c.Workload == workload && c.Rounds.Count > 0).ToList();
        var ticks = new List<Tick>();
        for (int i = 0; i < cells.Count; i++)
        {
            // Bars start at 10^-Offset: log10 shifted up so every bar has a positive height (labels go on top).
            double value = Math.Log10(Math.Max(cells[i].Median * scale, 1e-3)) + Offset;
            var bar = new Bar
            {
                Position = i,
                Value = value,
                ValueBase = 0,
                FillColor = Colors.Category10[i % Colors.Category10.Length],
                Label = BenchReport.Significant(cells[i].Median * scale),
            };
            plot.Add.Bar(bar);
            ticks.Add(new Tick(i, cells[i].Transport));
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. ticks]);
        plot.Axes.Left.TickGenerator = LogTicks(Offset);
        plot.Axes.SetLimitsY(0, Offset + Math.Max(2, cells.Count == 0 ? 2 : cells.Max(c => Math.Log10(Math.Max(c.Median * scale, 1e-3))) + 0.5));
        plot.Title(title);
    }

    private static ScottPlot.TickGenerators.NumericAutomatic LogTicks(double offset = 0) => new()
    {
        MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
        IntegerTicksOnly = true,
        LabelFormatter = y => Math.Pow(10, y - offset).ToString("G4", CultureInfo.InvariantCulture),
    };
}
