using System.Globalization;
using ScottPlot;

namespace ShmKit.Bench;

/// <summary>
/// The PNG of <c>--chart</c> (ScottPlot 5), one panel per workload that ran: round-trip percentile distributions on a
/// log scale, one throughput bar chart (medians) per message size (log scale too: the transports differ by orders of
/// magnitude), and for lock-2p its operations per second (log scale) and the host's share of the increments per lock.
/// </summary>
internal static class BenchChart
{
    private const double Offset = 2;

    internal static void Write(BenchRun run, string path)
    {
        bool Ran(BenchWorkload workload) => run.Cells.Any(c => c.Workload == workload && c.Rounds.Count > 0);
        var panels = new List<Action<Plot>>();
        if (Ran(BenchWorkload.Rtt64))
        {
            panels.Add(plot => Latency(plot, run));
        }

        foreach (var (workload, title, scale) in new[]
        {
            (BenchWorkload.Tput64, "tput-64: M msg/s (log scale)", 1e-6),
            (BenchWorkload.Tput4K, "tput-4k: GB/s (log scale)", 1),
            (BenchWorkload.Tput1M, "tput-1m: GB/s (log scale)", 1),
            (BenchWorkload.Lock2P, "lock-2p: M ops/s (log scale)", 1e-6),
        })
        {
            if (Ran(workload))
            {
                panels.Add(plot => Bars(plot, run, workload, title, scale));
            }
        }

        if (Ran(BenchWorkload.Lock2P))
        {
            panels.Add(plot => Shares(plot, run));
        }

        if (panels.Count == 0)
        {
            panels.Add(plot => plot.Title("no rows ran"));
        }

        // 1 panel: 1x1; up to 4: two columns (the classic 2x2); 5 or 6: three columns.
        int columns = panels.Count == 1 ? 1 : panels.Count <= 4 ? 2 : 3;
        int rows = (panels.Count + columns - 1) / columns;
        var multiplot = new Multiplot();
        multiplot.AddPlots(panels.Count);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, columns);
        for (int i = 0; i < panels.Count; i++)
        {
            panels[i](multiplot.GetPlot(i));
        }

        multiplot.SavePng(path, 800 * columns, 550 * rows);
    }

    private static void Latency(Plot latency, BenchRun run)
    {
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
