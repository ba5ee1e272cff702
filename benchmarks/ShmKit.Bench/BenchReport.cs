using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace ShmKit.Bench;

/// <summary>The results as a console table, as JSON (a stable shape) and as a PNG chart.</summary>
internal static class BenchReport
{
    /// <summary>The reference for "x raw": raw-c when it ran, else raw-cs.</summary>
    internal static string? RawReference(BenchRun run, BenchWorkload workload) =>
        run.Find("raw-c", workload) is not null ? "raw-c" : run.Find("raw-cs", workload) is not null ? "raw-cs" : null;

    /// <summary>
    /// How many times slower than <paramref name="reference"/> a cell is (latency: median / reference median;
    /// throughput: reference median / median). Above 1 = slower.
    /// </summary>
    internal static double? SlowerThan(BenchRun run, BenchCell cell, string? reference)
    {
        var other = reference is null ? null : run.Find(reference, cell.Workload);
        if (other is null || cell.Median <= 0 || other.Median <= 0)
        {
            return null;
        }

        return cell.Workload.IsLatency() ? cell.Median / other.Median : other.Median / cell.Median;
    }

    internal static void WriteTable(BenchRun run, IAnsiConsole console, bool showRounds = false)
    {
        bool wide = console.Profile.Width >= 96; // min..max only where it fits without wrapping the rows
        var table = new Table().Border(TableBorder.Rounded).Title("shmkit-bench: median over rounds, every message verified");
        table.AddColumn("workload");
        table.AddColumn("transport");
        table.AddColumn(new TableColumn("median").RightAligned());
        if (wide)
        {
            table.AddColumn(new TableColumn("min..max").RightAligned());
        }

        table.AddColumn(new TableColumn("x raw").RightAligned());
        table.AddColumn(new TableColumn("x pipe").RightAligned());
        table.AddColumn(new TableColumn("x sem").RightAligned());
        table.AddColumn("note");
        foreach (var workload in BenchWorkloads.All)
        {
            string? raw = RawReference(run, workload);
            foreach (var cell in run.Cells.Where(c => c.Workload == workload && c.Rounds.Count > 0))
            {
                double? slower = SlowerThan(run, cell, raw);
                double? pipe = FasterThan(run, cell, "pipe");
                double? sem = FasterThan(run, cell, SemaphoreRow);
                var notes = new List<string>();
                if (cell.Noisy)
                {
                    notes.Add(string.Create(CultureInfo.InvariantCulture, $"[yellow]noisy {cell.Max / cell.Min:0.0}[/]"));
                }

                if (!cell.Pinned)
                {
                    notes.Add("unpinned");
                }

                if (cell.MedianHostShare is { } share)
                {
                    notes.Add(Split(share));
                }

                var row = new List<string>
                {
                    workload.Name() + " " + DisplayUnit(workload),
                    cell.Transport == raw ? $"[bold]{cell.Transport}[/]" : cell.Transport,
                    Format(cell.Median, workload),
                };
                if (wide)
                {
                    row.Add(Format(cell.Min, workload) + ".." + Format(cell.Max, workload));
                }

                row.Add(slower is null ? "-" : Ratio(slower.Value));
                row.Add(pipe is null ? "-" : Ratio(pipe.Value));
                row.Add(sem is null ? "-" : Ratio(sem.Value));
                row.Add(string.Join(", ", notes));
                table.AddRow([.. row]);
            }
        }

        console.Write(table);
        console.MarkupLine("[grey]x raw: how many times slower than the raw limit (raw-c, or raw-cs without gcc). x pipe, x sem: how many times faster than a pipe, than shm-semaphore.[/]");
        console.MarkupLine("[grey]noisy N: max/min over the rounds is N (above 1.5): the median of this row is uncertain.[/]");
        if (run.Cells.Any(c => c.MedianHostShare is not null))
        {
            console.MarkupLine("[grey]split H:P (lock-2p): the host's and the peer's percentage of the increments (median over rounds).[/]");
        }

        var latency = new Table().Border(TableBorder.Rounded).Title("rtt-64: individual round trips, µs (all timed rounds)");
        latency.AddColumn("transport");
        foreach (string p in new[] { "p50", "p90", "p99", "p99.9", "max" })
        {
            latency.AddColumn(new TableColumn(p).RightAligned());
        }

        foreach (var cell in run.Cells.Where(c => c.Workload == BenchWorkload.Rtt64 && c.RoundTrips is { TotalCount: > 0 }))
        {
            latency.AddRow(
                cell.Transport,
                Significant(cell.Percentile(50) ?? 0),
                Significant(cell.Percentile(90) ?? 0),
                Significant(cell.Percentile(99) ?? 0),
                Significant(cell.Percentile(99.9) ?? 0),
                Significant(cell.MaxRoundTrip ?? 0));
        }

        if (latency.Rows.Count > 0)
        {
            console.Write(latency);
        }

        foreach (string note in run.Notes)
        {
            console.MarkupLine("[grey]note:[/] " + Markup.Escape(note));
        }

        if (showRounds)
        {
            // Rounds are interleaved: a dip in the same column of every row is the machine, not the transport.
            foreach (var cell in run.Cells.Where(c => c.Rounds.Count > 0))
            {
                console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{cell.Workload.Name()} {DisplayUnit(cell.Workload)} {cell.Transport}, rounds in order: {string.Join(" ", cell.Rounds.Select(r => Format(r, cell.Workload)))}"));
            }
        }

        foreach (string line in Headlines(run))
        {
            console.MarkupLine(Markup.Escape(line));
        }
    }

    /// <summary>
    /// How many times faster than <paramref name="reference"/> a cell is (the inverse of <see cref="SlowerThan"/>);
    /// null when either row did not run.
    /// </summary>
    internal static double? FasterThan(BenchRun run, BenchCell cell, string reference) =>
        SlowerThan(run, cell, reference) is { } slower && slower > 0 ? 1 / slower : null;

    /// <summary>"split H:P": the host's and the peer's percentage of a lock-2p row's increments.</summary>
    internal static string Split(double hostShare)
    {
        int host = (int)Math.Round(hostShare * 100);
        return string.Create(CultureInfo.InvariantCulture, $"split {host}:{100 - host}");
    }

    /// <summary>The ratios worth quoting: C# vs C, shared memory vs the kernel transports, and the issues' targets.</summary>
    internal static IEnumerable<string> Headlines(BenchRun run)
    {
        foreach (var workload in new[] { BenchWorkload.Rtt64, BenchWorkload.Tput64 })
        {
            if (run.Find("raw-cs", workload) is { } cs && run.Find("raw-c", workload) is { } c)
            {
                double ratio = SlowerThan(run, cs, "raw-c")!.Value;
                double verdict = ratio;
                string perRound = string.Empty;
                if (cs.Rounds.Count == c.Rounds.Count && cs.Rounds.Count > 1)
                {
                    // Round r of raw-c and of raw-cs ran back to back, in the same vCPU placement: the median of these
                    // ratios is immune to a placement change in the middle of the run, which can skew the ratio of medians.
                    var ratios = cs.Rounds.Zip(c.Rounds, (x, y) => workload.IsLatency() ? x / y : y / x).Order().ToArray();
                    verdict = ratios.Length % 2 == 1 ? ratios[ratios.Length / 2] : (ratios[(ratios.Length / 2) - 1] + ratios[ratios.Length / 2]) / 2;
                    perRound = string.Create(CultureInfo.InvariantCulture,
                        $" (ratio of medians); round by round {Ratio(verdict)} median, {Significant(ratios[0])}..{Significant(ratios[^1])}");
                }

                yield return string.Create(CultureInfo.InvariantCulture,
                    $"raw-cs vs raw-c, {workload.Name()}: C# is {Ratio(ratio)} the C figure{perRound}{(verdict <= 1.3 ? ": within the 1.3x target" : ": OUTSIDE the 1.3x target")}.");
            }
        }

        foreach (var workload in BenchWorkloads.All)
        {
            if (run.Find("raw-cs", workload) is not { } shm)
            {
                continue;
            }

            var others = run.Cells.Where(c => c.Workload == workload && c.Rounds.Count > 0 && c.Transport is not ("raw-c" or "raw-cs"))
                .Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Transport} {Ratio(SlowerThan(run, c, "raw-cs") ?? 0)}"))
                .ToList();
            if (others.Count > 0)
            {
                yield return $"{workload.Name()}: raw-cs shared memory is faster than {string.Join(", ", others)}.";
            }
        }

        foreach (var target in BenchTargets.All)
        {
            if (target.Evaluate(run) is { } line)
            {
                yield return line;
            }
        }
    }

    /// <summary>The row that "x sem" compares against.</summary>
    internal const string SemaphoreRow = "shm-semaphore";

    /// <summary>Writes every figure: {"machine": {...}, "results": [{transport, workload, unit, min, median, max, p50, p90, p99, p999, pinned}]}.</summary>
    internal static void WriteJson(BenchRun run, string path)
    {
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteStartObject("machine");
        json.WriteNumber("cpus", run.Cpus);
        json.WriteString("os", run.Os);
        json.WriteString("runtime", run.Runtime);
        json.WriteEndObject();
        json.WriteStartArray("results");
        foreach (var cell in run.Cells.Where(c => c.Rounds.Count > 0))
        {
            json.WriteStartObject();
            json.WriteString("transport", cell.Transport);
            json.WriteString("workload", cell.Workload.Name());
            json.WriteString("unit", cell.Workload.Unit());
            json.WriteNumber("min", Round(cell.Min));
            json.WriteNumber("median", Round(cell.Median));
            json.WriteNumber("max", Round(cell.Max));
            WriteNullable(json, "p50", cell.Percentile(50));
            WriteNullable(json, "p90", cell.Percentile(90));
            WriteNullable(json, "p99", cell.Percentile(99));
            WriteNullable(json, "p999", cell.Percentile(99.9));
            json.WriteBoolean("pinned", cell.Pinned);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, Round(v));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    /// <summary>Five significant digits: more than the measurement has.</summary>
    private static double Round(double value) =>
        value == 0 ? 0 : Math.Round(value, Math.Max(0, 4 - (int)Math.Floor(Math.Log10(Math.Abs(value)))));

    private static string DisplayUnit(BenchWorkload workload) => workload switch
    {
        BenchWorkload.Rtt64 => "µs",
        BenchWorkload.Tput64 => "Mmsg/s",
        BenchWorkload.Lock2P => "Mops/s",
        _ => "GB/s",
    };

    private static string Format(double value, BenchWorkload workload) =>
        Significant(workload is BenchWorkload.Tput64 or BenchWorkload.Lock2P ? value / 1e6 : value);

    internal static string Significant(double value) => value switch
    {
        0 => "0",
        >= 100 => value.ToString("0", CultureInfo.InvariantCulture),
        >= 10 => value.ToString("0.0", CultureInfo.InvariantCulture),
        >= 1 => value.ToString("0.00", CultureInfo.InvariantCulture),
        >= 0.1 => value.ToString("0.000", CultureInfo.InvariantCulture),
        _ => value.ToString("0.0000", CultureInfo.InvariantCulture),
    };

    internal static string Ratio(double value) => Significant(value) + "x";
}
