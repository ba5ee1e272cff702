using Spectre.Console;
using ShmKit.Bench;

namespace ShmKit.Tests.Bench;

/// <summary>
/// The bench's report on hand-made figures (no process runs, nothing is timed): the issue targets and the "x sem"
/// column for rows that exist today and for those that will (shm-mutex, shm-event, shm-event-blocking), so that the
/// report is ready when their transports are registered.
/// </summary>
public class BenchReportTests
{
    [Fact]
    public void TargetsNeedBothRows()
    {
        var run = Run(
            Cell("raw-c", BenchWorkload.Lock2P, 20e6, 20e6),
            Cell("shm-semaphore", BenchWorkload.Lock2P, 4e4, 4e4),
            Cell("raw-c", BenchWorkload.Rtt64, 0.1, 0.1));
        Assert.All(BenchTargets.All, t => Assert.Null(t.Evaluate(run)));
        Assert.DoesNotContain(BenchReport.Headlines(run), l => l.StartsWith("target", StringComparison.Ordinal));
    }

    [Fact]
    public void MutexTargetsCompareOperationsPerSecondRoundByRound()
    {
        var run = Run(
            Cell("raw-c", BenchWorkload.Lock2P, 10e6, 20e6, 10e6),
            Cell("shm-mutex", BenchWorkload.Lock2P, 9e6, 15e6, 7e6),
            Cell("shm-semaphore", BenchWorkload.Lock2P, 1e6, 1e6, 1e6));
        string[] lines = [.. BenchReport.Headlines(run).Where(l => l.StartsWith("target", StringComparison.Ordinal))];
        Assert.Equal(2, lines.Length);

        // Medians 9 M vs 10 M: 0.9x; per round 0.9, 0.75, 0.7: median 0.75x, below the 0.8x target.
        Assert.Equal(
            "target (issue 8): shm-mutex lock-2p ops/s is 0.900x raw-c's; round by round 0.750x median, 0.700..0.900 (at least 0.800x): NOT MET.",
            lines[0]);
        Assert.Equal(
            "target (issue 8): shm-mutex lock-2p ops/s is 9.00x shm-semaphore's; round by round 9.00x median, 7.00..15.0 (at least 10.0x): NOT MET.",
            lines[1]);
    }

    [Fact]
    public void EventTargetsCompareRoundTrips()
    {
        var run = Run(
            Cell("raw-c", BenchWorkload.Rtt64, 0.1),
            Cell("shm-event", BenchWorkload.Rtt64, 0.14),
            Cell("shm-event-blocking", BenchWorkload.Rtt64, 56),
            Cell("shm-semaphore", BenchWorkload.Rtt64, 50));
        string[] lines = [.. BenchReport.Headlines(run).Where(l => l.StartsWith("target", StringComparison.Ordinal))];
        Assert.Equal(
        [
            "target (issue 8): shm-event rtt-64 round trip is 1.40x raw-c's (at most 1.50x): met.",
            "target (issue 8): shm-event-blocking rtt-64 round trip is 1.12x shm-semaphore's (at most 1.10x): NOT MET.",
        ],
            lines);
    }

    [Fact]
    public void TableShowsTheSemaphoreRatioAndTheLockSplit()
    {
        var mutex = Cell("shm-mutex", BenchWorkload.Lock2P, 20e6);
        mutex.HostShares.Add(0.3);
        var semaphore = Cell("shm-semaphore", BenchWorkload.Lock2P, 4e4);
        semaphore.HostShares.Add(0.5);
        var run = Run(Cell("raw-c", BenchWorkload.Lock2P, 25e6), mutex, semaphore);
        using var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 200;
        BenchReport.WriteTable(run, console);
        string[] mutexRow = Columns(writer.ToString(), "shm-mutex");

        // workload, transport, median, min..max, x raw (25/20), x pipe (no pipe row), x sem (20 M / 40 k), note.
        Assert.Equal(["lock-2p Mops/s", "shm-mutex", "20.0", "20.0..20.0", "1.25x", "-", "500x", "split 30:70"], mutexRow);
        Assert.Equal("split 50:50", Columns(writer.ToString(), "shm-semaphore")[^1]);
    }

    private static string[] Columns(string table, string transport) =>
        table.Split('\n').Select(l => l.Split('│', StringSplitOptions.TrimEntries)).First(c => c.Length > 2 && c[2] == transport)[1..^1];

    private static BenchCell Cell(string transport, BenchWorkload workload, params double[] rounds)
    {
        var cell = new BenchCell(transport, workload);
        cell.Rounds.AddRange(rounds);
        return cell;
    }

    private static BenchRun Run(params BenchCell[] cells)
    {
        var run = new BenchRun();
        run.Cells.AddRange(cells);
        return run;
    }
}
