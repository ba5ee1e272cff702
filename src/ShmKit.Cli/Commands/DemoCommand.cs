using System.CommandLine;
using ShmKit.Cli.Demo;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit demo</c>: the main job. With no subcommand it runs a server and a client as two processes and gives a
/// verdict; <c>shmkit demo server</c> and <c>shmkit demo client</c> run the halves by hand in two terminals.
/// </summary>
internal static class DemoCommand
{
    /// <summary>The key the halves use by hand when none is given: "SHKD".</summary>
    private static readonly IpcKey s_defaultKey = new(0x53484b44);

    internal static Command Create()
    {
        var records = RecordsOption();
        var updates = UpdatesOption("Records the client updates in place, in the middle of the table (at most 32, and at most --records - 2).");
        var timeout = CliDuration.Option("--timeout", "How long each half waits for the other (e.g. 30s).", TimeSpan.FromSeconds(30));
        var writeTime = CliDuration.Option("--write-time", "How long the server takes to write the table, so the early client visibly waits.", TimeSpan.FromMilliseconds(400));

        var command = new Command("demo", "Run a server and a client process that share a table in System V shared memory, synchronized by semaphores; prints a narrated transcript and a verdict.")
        {
            records, updates, timeout, writeTime,
        };
        command.Validators.Add(result =>
        {
            if (CliParsing.TryGetValue(result, records, out int n) && CliParsing.TryGetValue(result, updates, out int u) && DemoTable.CheckUpdates(n, u) is { } error)
            {
                result.AddError(error);
            }
        });
        command.SetAction(parseResult => DemoOrchestrator.Run(new DemoOrchestrator.Options(
            parseResult.GetValue(records), parseResult.GetValue(updates), parseResult.GetValue(timeout), parseResult.GetValue(writeTime))));
        command.Subcommands.Add(CreateServer());
        command.Subcommands.Add(CreateClient());
        return command;
    }

    private static Command CreateServer()
    {
        var key = KeyOption();
        var records = RecordsOption();
        var writeTime = CliDuration.Option("--write-time", "How long to take writing the table, so an early client visibly waits.", TimeSpan.FromMilliseconds(400));
        var timeout = CliDuration.Option("--timeout", "How long to wait for a client to finish its updates.", TimeSpan.FromMinutes(5));
        var replace = new Option<bool>("--replace") { Description = "First remove the segment and semaphore set that a server which is gone (crashed, killed) left with this key. Never removes a running server's objects, nor another program's." };
        var parent = ParentOption();
        var origin = ClockOriginOption();
        var command = new Command("server", "The server half: create the table, mark it ready, check the client's updates. Run `shmkit demo client` in another terminal.")
        {
            key, records, writeTime, timeout, replace, parent, origin,
        };
        command.SetAction(parseResult => DemoServer.Run(new DemoServer.Options(
            parseResult.GetValue(key), parseResult.GetValue(records), parseResult.GetValue(writeTime), parseResult.GetValue(timeout),
            parseResult.GetValue(replace), parseResult.GetValue(parent), parseResult.GetValue(origin))));
        return command;
    }

    private static Command CreateClient()
    {
        var key = KeyOption();
        var updates = UpdatesOption("Records to update in place, in the middle of the table (at most 32, and at most the table's records - 2).");
        var timeout = CliDuration.Option("--timeout", "How long to wait for the server.", TimeSpan.FromSeconds(30));
        var parent = ParentOption();
        var origin = ClockOriginOption();
        var command = new Command("client", "The client half: wait for the server's table, verify it, update records in the middle.")
        {
            key, updates, timeout, parent, origin,
        };
        command.SetAction(parseResult => DemoClient.Run(new DemoClient.Options(
            parseResult.GetValue(key), parseResult.GetValue(updates), parseResult.GetValue(timeout), parseResult.GetValue(parent), parseResult.GetValue(origin))));
        return command;
    }

    private static Option<IpcKey> KeyOption() => new("--key")
    {
        Description = "The key both halves use (0x..., decimal or path:projid).",
        DefaultValueFactory = _ => s_defaultKey,
        CustomParser = r =>
        {
            if (IpcKey.TryParse(r.Tokens[0].Value, out IpcKey key) && !key.IsPrivate)
            {
                return key;
            }

            r.AddError($"'{r.Tokens[0].Value}' is not a usable key for --key: use 0x1a2b, a decimal number or path:projid.");
            return default;
        },
    };

    private static Option<int> RecordsOption()
    {
        var option = CliParsing.IntegerOption("--records", "Records in the table (64 bytes each), 1 to 1000000.", 1, 1_000_000);
        option.DefaultValueFactory = _ => 1000;
        return option;
    }

    private static Option<int> UpdatesOption(string description)
    {
        var option = CliParsing.IntegerOption("--updates", description, 0, DemoTable.MaxUpdates);
        option.DefaultValueFactory = _ => 5;
        return option;
    }

    private static Option<int> ParentOption() => new("--parent-pid")
    {
        Description = "Exit (cleaning up) when this process is gone; set by `shmkit demo`.",
        Hidden = true,
    };

    private static Option<long> ClockOriginOption() => new("--clock-origin")
    {
        Description = "The Stopwatch timestamp (CLOCK_MONOTONIC) the transcript counts from; set by `shmkit demo` so both halves share one clock.",
        Hidden = true,
    };
}
