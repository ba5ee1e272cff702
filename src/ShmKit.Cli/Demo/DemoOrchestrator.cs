using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Spectre.Console;

namespace ShmKit.Cli.Demo;

/// <summary>
/// <c>shmkit demo</c> with no set-up: starts the server and the client as two real OS processes (this program again),
/// relays their narration, and gives a verdict. It removes everything the halves created, also on Ctrl-C or when a
/// half dies, and checks that the host's System V objects are as it found them.
/// </summary>
internal static class DemoOrchestrator
{
    internal sealed record Options(int Records, int Updates, TimeSpan Timeout, TimeSpan WriteTime);

    internal static int Run(Options options)
    {
        var console = CliConsole.Out;
        var before = Snapshot();
        IpcKey key = FreshKey(before);
        long started = Stopwatch.GetTimestamp();
        console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"[bold]ShmKit demo[/]: a server and a client process share a table of {options.Records} records through System V shared memory (key {key})."));
        console.MarkupLine("The client starts at once, before the table is written; a semaphore keeps it from reading half-written data.");
        console.WriteLine();

        string parent = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        // One clock for both transcripts: CLOCK_MONOTONIC (Stopwatch) counted from this moment.
        string origin = Stopwatch.GetTimestamp().ToString(CultureInfo.InvariantCulture);
        string timeout = options.Timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
        using var stop = new CancellationTokenSource();
        var registrations = new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP }
            .Select(s => PosixSignalRegistration.Create(s, context =>
            {
                context.Cancel = true;
                stop.Cancel();
            }))
            .ToList();

        Process? server = null;
        Process? client = null;
        string verdictDetail;
        bool passed;
        try
        {
            server = Start("server", "green", console,
                ["demo", "server", "--key", key.ToString(), "--records", options.Records.ToString(CultureInfo.InvariantCulture), "--timeout", timeout,
                 "--write-time", options.WriteTime.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) + "ms", "--parent-pid", parent, "--clock-origin", origin]);
            client = Start("client", "blue", console,
                ["demo", "client", "--key", key.ToString(), "--updates", options.Updates.ToString(CultureInfo.InvariantCulture), "--timeout", timeout, "--parent-pid", parent, "--clock-origin", origin]);

            // Wait for both; if one half fails or dies, stop the other at once.
            var deadline = Stopwatch.GetTimestamp() + (long)((options.Timeout.TotalSeconds + 10) * Stopwatch.Frequency);
            while (!(server.HasExited && client.HasExited))
            {
                if (stop.IsCancellationRequested)
                {
                    break;
                }

                if ((server.HasExited && server.ExitCode != 0) || (client.HasExited && client.ExitCode != 0) || Stopwatch.GetTimestamp() > deadline)
                {
                    break;
                }

                stop.Token.WaitHandle.WaitOne(50);
            }

            bool interrupted = stop.IsCancellationRequested;
            bool timedOut = !interrupted && !(server.HasExited && client.HasExited) && Stopwatch.GetTimestamp() > deadline;
            string? firstFailure = FirstFailure(server, client);

            // A half still running here must stop: close its stdin (its "stop" request: it unwinds and removes what it
            // created), give it a few seconds, then kill it. Whatever a killed half leaves is removed below, by key.
            Stop(server);
            Stop(client);

            passed = !interrupted && !timedOut && server.ExitCode == 0 && client.ExitCode == 0;
            verdictDetail = interrupted ? "interrupted; both halves stopped"
                : timedOut ? "a half did not finish in time; both stopped"
                : passed ? "the client never saw half-written data, and the server saw exactly the client's updates"
                : firstFailure + "; the other half was stopped";
        }
        finally
        {
            if (server is not null)
            {
                SelfProcess.Kill(server);
            }

            if (client is not null)
            {
                SelfProcess.Kill(client);
            }

            foreach (var registration in registrations)
            {
                registration.Dispose();
            }
        }

        // Whatever happened, nothing with our key may survive.
        bool leftovers = SharedMemoryRendezvous.Remove(key);
        // Other programs may create objects meanwhile; ours are the ones with our key.
        var after = Snapshot();
        after.ExceptWith(before);
        bool asFound = !after.Any(id => id.EndsWith(":" + key.ToString(), StringComparison.Ordinal));
        console.WriteLine();
        console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"cleanup: {(leftovers ? "removed objects a half left behind" : "the server removed its segment and semaphore set")}; System V objects on the host are {(asFound ? "as the demo found them" : "NOT as the demo found them")} (ipcs -a)."));
        passed &= asFound && !leftovers;
        string elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture);
        console.MarkupLine(passed
            ? $"[bold green]PASS[/] in {elapsed} s: {Markup.Escape(verdictDetail)}."
            : $"[bold red]FAIL[/] after {elapsed} s: {Markup.Escape(verdictDetail)}.");
        return passed ? CliErrors.Success : CliErrors.Failure;
    }

    private static Process Start(string role, string colour, IAnsiConsole console, string[] args)
    {
        // stdin stays open: closing it is how we ask the half to stop.
        var process = Process.Start(SelfProcess.StartInfo(args)) ?? throw new InvalidOperationException($"Could not start the {role}.");
        string tag = CliConsole.IsPlain ? $"[{role}]" : $"[{colour}]{role,-6}[/]";
        object gate = console;
        void Relay(string? line, bool error)
        {
            if (line is null)
            {
                return;
            }

            lock (gate)
            {
                string text = Markup.Escape(line);
                console.MarkupLine(CliConsole.IsPlain
                    ? Markup.Escape(tag) + " " + text
                    : tag + " " + (error ? "[red]" + text + "[/]" : text));
            }
        }

        process.OutputDataReceived += (_, e) => Relay(e.Data, error: false);
        process.ErrorDataReceived += (_, e) => Relay(e.Data, error: true);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Stop(Process process)
    {
        try
        {
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The half is gone already.
        }

        if (!process.WaitForExit(5000))
        {
            SelfProcess.Kill(process);
        }

        process.WaitForExit();
    }

    /// <summary>Which half failed first, and how.</summary>
    private static string? FirstFailure(Process server, Process client)
    {
        var failed = new[] { (Name: "server", Process: server), (Name: "client", Process: client) }
            .Where(h => h.Process.HasExited && h.Process.ExitCode != 0)
            .OrderBy(h => h.Process.ExitTime)
            .Select(h => h.Name + (h.Process.ExitCode > 128
                ? string.Create(CultureInfo.InvariantCulture, $" was killed by signal {h.Process.ExitCode - 128}")
                : string.Create(CultureInfo.InvariantCulture, $" failed (exit code {h.Process.ExitCode})")))
            .FirstOrDefault();
        return failed ?? "a half did not finish";
    }

    /// <summary>The ids of every segment, semaphore set and queue on the host.</summary>
    private static HashSet<string> Snapshot()
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in SharedMemorySegment.GetAll())
        {
            ids.Add(string.Create(CultureInfo.InvariantCulture, $"m{s.Id}:{s.Key}"));
        }

        foreach (var s in SemaphoreSet.GetAll())
        {
            ids.Add(string.Create(CultureInfo.InvariantCulture, $"s{s.Id}:{s.Key}"));
        }

        foreach (var q in MessageQueue.GetAll())
        {
            ids.Add(string.Create(CultureInfo.InvariantCulture, $"q{q.Id}:{q.Key}"));
        }

        return ids;
    }

    /// <summary>A key in 0x53480000..0x5348ffff ("SH..") that no object uses now.</summary>
    private static IpcKey FreshKey(HashSet<string> inUse)
    {
        while (true)
        {
            var key = new IpcKey(0x53480000 | Random.Shared.Next(1, 0x10000));
            if (!inUse.Any(id => id.EndsWith(":" + key.ToString(), StringComparison.Ordinal)))
            {
                return key;
            }
        }
    }
}
