using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Spectre.Console;

namespace ShmKit.Bench;

/// <summary>
/// The benchmark's command line (<c>dotnet run -c Release --project benchmarks/ShmKit.Bench -- [options]</c>): measures
/// shared memory against pipes, sockets, TCP, semaphores and message queues between two real processes on this host,
/// every message verified.
/// </summary>
internal static class BenchCommand
{
    /// <summary>The prefix of every line this program writes to stderr.</summary>
    internal const string Name = "shmkit-bench";

    internal static RootCommand Create()
    {
        var quick = new Option<bool>("--quick") { Description = "Fewer rounds (7) and messages: finishes within a minute on a 2-core machine." };
        var only = new Option<string?>("--only")
        {
            Description = "Run only these transports and/or workloads (comma-separated; naming only workloads runs every transport that carries them): "
                + string.Join(", ", BenchTransports.Names) + "; " + string.Join(", ", BenchWorkloads.Names) + ".",
        };
        var json = new Option<string?>("--json") { Description = "Write every figure to this JSON file." };
        var chart = new Option<string?>("--chart") { Description = "Write a PNG chart (latency percentiles; throughput and lock-2p bars) to this file." };
        var rounds = new Option<bool>("--show-rounds") { Description = "Also print every round's figure, in order (rounds are interleaved across transports)." };
        var smoke = new Option<bool>("--smoke") { Description = "One round of tiny counts, for tests.", Hidden = true };
        var command = new RootCommand("Measure IPC between two pinned processes: raw C and C# shared memory vs semaphores, pipes, Unix sockets, TCP and SysV message queues; and two processes contending on one cross-process lock.")
        {
            quick, only, json, chart, rounds, smoke,
        };
        command.SetAction(parseResult =>
        {
            var mode = parseResult.GetValue(smoke) ? BenchMode.Smoke : parseResult.GetValue(quick) ? BenchMode.Quick : BenchMode.Full;
            string[] names = parseResult.GetValue(only)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
            if (names.FirstOrDefault(n => !BenchTransports.Names.Contains(n) && !BenchWorkloads.Names.Contains(n)) is { } unknown)
            {
                Console.Error.WriteLine($"{Name}: unknown transport or workload '{unknown}'. Transports: {string.Join(", ", BenchTransports.Names)}; workloads: {string.Join(", ", BenchWorkloads.Names)}.");
                return 2;
            }

            string[] transports = [.. names.Where(BenchTransports.Names.Contains)];
            BenchWorkload[] workloads = [.. names.Where(BenchWorkloads.Names.Contains).Select(BenchWorkloads.Parse)];
            var settings = new BenchSettings(mode, transports.Length == 0 ? null : transports, workloads.Length == 0 ? null : workloads);
            return Run(settings, parseResult.GetValue(json), parseResult.GetValue(chart), parseResult.GetValue(rounds));
        });
        return command;
    }

    private static int Run(BenchSettings settings, string? jsonPath, string? chartPath, bool showRounds)
    {
        foreach (string? path in new[] { jsonPath, chartPath })
        {
            if (path is not null && Path.GetDirectoryName(Path.GetFullPath(path)) is { } directory && !Directory.Exists(directory))
            {
                Console.Error.WriteLine($"{Name}: the directory of '{path}' does not exist; create it or choose another path.");
                return 2;
            }
        }

        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 150); // a log file: no wrapped table rows
        }

        var runner = new BenchRunner(settings);
        int signalExitCode = 0;
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            signalExitCode = context.Signal == PosixSignal.SIGINT ? 130 : 143; // 128 + signal number, as a shell reports it
            runner.Interrupt(context.Signal.ToString());
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        BenchRun run;
        try
        {
            run = settings.Mode == BenchMode.Smoke || Console.IsOutputRedirected ? RunPlain(runner, settings) : RunWithProgress(runner, settings);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine(Name + ": aborted: " + BenchAbort.Reason + "; everything it created has been removed.");
            return signalExitCode != 0 ? signalExitCode : 1;
        }
        catch (BenchVerificationException ex)
        {
            Console.Error.WriteLine(Name + ": VERIFICATION FAILED: " + ex.Message);
            return 1;
        }
        catch (Exception ex) when (BenchAbort.IsAborted)
        {
            // After a signal, a loop's failure is the signal's own doing (the cleanup removed its objects under it):
            // say only why the run stopped. After a peer's death, its detail tells what broke.
            string detail = signalExitCode != 0 ? string.Empty : " (" + ex.Message + ")";
            Console.Error.WriteLine(Name + ": aborted: " + BenchAbort.Reason + detail + "; everything it created has been removed.");
            return signalExitCode != 0 ? signalExitCode : 1;
        }
        catch (Exception ex) when (ex is IpcException or IOException or InvalidOperationException or UnauthorizedAccessException or System.Net.Sockets.SocketException)
        {
            Console.Error.WriteLine(Name + ": " + ex.Message + " Everything it created has been removed.");
            return 1;
        }

        BenchReport.WriteTable(run, AnsiConsole.Console, showRounds);
        long messages = run.Cells.Where(c => c.Workload.MovesMessages()).Sum(c => c.Messages);
        long increments = run.Cells.Where(c => !c.Workload.MovesMessages()).Sum(c => c.Messages);
        var verified = new List<string>();
        if (messages > 0 || increments == 0)
        {
            verified.Add(string.Create(CultureInfo.InvariantCulture, $"all {messages:N0} timed messages (and the warm-up) carried the right sequence number and checksum"));
        }

        if (increments > 0)
        {
            verified.Add(string.Create(CultureInfo.InvariantCulture, $"every lock-2p counter came out exact ({increments:N0} timed increments, and the warm-up)"));
        }

        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"[green]verified[/]: {string.Join("; ", verified)}. Run took {run.Duration.TotalSeconds:0.0} s."));
        try
        {
            if (jsonPath is not null)
            {
                BenchReport.WriteJson(run, jsonPath);
                AnsiConsole.MarkupLine("JSON written to " + Markup.Escape(jsonPath));
            }

            if (chartPath is not null)
            {
                BenchChart.Write(run, chartPath);
                AnsiConsole.MarkupLine("Chart written to " + Markup.Escape(chartPath));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine(Name + ": could not write the output file: " + ex.Message);
            return 1;
        }

        return 0;
    }

    private static BenchRun RunPlain(BenchRunner runner, BenchSettings settings) =>
        runner.Run(p =>
        {
            if (p.Round == 0 || p.Round == settings.Rounds)
            {
                Console.Out.WriteLine($"{(p.WarmUp ? "warm-up" : "done")}: {p.Transport} {p.Workload.Name()}");
            }
        });

    private static BenchRun RunWithProgress(BenchRunner runner, BenchSettings settings)
    {
        BenchRun? result = null;
        AnsiConsole.Progress()
            .AutoRefresh(false) // no render thread: the only redraw happens between rounds, never during a timed one
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var tasks = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                foreach (string name in settings.Only ?? BenchTransports.Names)
                {
                    int workloads = BenchTransports.CountSupported(name, settings.SelectedWorkloads);
                    if (workloads > 0)
                    {
                        tasks[name] = context.AddTask(name, maxValue: (settings.Rounds + 1) * workloads);
                    }
                }

                context.Refresh();
                result = runner.Run(p =>
                {
                    var task = tasks[p.Transport];
                    task.Increment(1);
                    task.Description = p.WarmUp
                        ? $"{p.Transport} [grey]warm-up {p.Workload.Name()}[/]"
                        : $"{p.Transport} [grey]round {p.Round}/{p.Rounds} {p.Workload.Name()}[/]";
                    context.Refresh();
                });
                foreach (var task in tasks.Values)
                {
                    task.Value = task.MaxValue; // skipped transports (no gcc) end complete too
                }

                context.Refresh();
            });
        return result!;
    }
}
