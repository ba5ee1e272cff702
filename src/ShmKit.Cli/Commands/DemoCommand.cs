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
        var records = new Option<int>("--records") { Description = "Records in the table (64 bytes each).", DefaultValueFactory = _ => 1000 };
        var updates = new Option<int>("--updates") { Description = "Records the client updates in place (at most 32).", DefaultValueFactory = _ => 5 };
        var timeout = CliDuration.Option("--timeout", "How long each half waits for the other (e.g. 30s).", TimeSpan.FromSeconds(30));
        var writeTime = CliDuration.Option("--write-time", "How long the server takes to write the table, so the early client visibly waits.", TimeSpan.FromMilliseconds(400));
        records.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 1_000_000)
            {
                r.AddError("--records must be between 1 and 1000000.");
            }
        });
        updates.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 0 or > 32)
            {
                r.AddError("--updates must be between 0 and 32.");
            }
        });

        var command = new Command("demo", "Run a server and a client process that share a table in System V shared memory, synchronized by semaphores; prints a narrated transcript and a verdict.")
        {
            records, updates, timeout, writeTime,
        };
        command.SetAction(parseResult => DemoOrchestrator.Run(new DemoOrchestrator.Options(
            parseResult.GetValue(records), parseResult.GetValue(updates), parseResult.GetValue(timeout), parseResult.GetValue(writeTime))));
        command.Subcommands.Add(CreateServer());
        command.Subcommands.Add(CreateClient());
        return command;
    }

    private static Command CreateServer()
    {
        var key = KeyOption();
        var records = new Option<int>("--records") { Description = "Records in the table (64 bytes each).", DefaultValueFactory = _ => 1000 };
        var writeTime = CliDuration.Option("--write-time", "How long to take writing the table, so an early client visibly waits.", TimeSpan.FromMilliseconds(400));
        var timeout = CliDuration.Option("--timeout", "How long to wait for a client to finish its updates.", TimeSpan.FromMinutes(5));
        var replace = new Option<bool>("--replace") { Description = "Remove a segment and semaphore set left with this key by a crashed server first." };
        var parent = ParentOption();
        var command = new Command("server", "The server half: create the table, mark it ready, check the client's updates. Run `shmkit demo client` in another terminal.")
        {
            key, records, writeTime, timeout, replace, parent,
        };
        command.SetAction(parseResult => DemoServer.Run(new DemoServer.Options(
            parseResult.GetValue(key), parseResult.GetValue(records), parseResult.GetValue(writeTime), parseResult.GetValue(timeout),
            parseResult.GetValue(replace), parseResult.GetValue(parent))));
        return command;
    }

    private static Command CreateClient()
    {
        var key = KeyOption();
        var updates = new Option<int>("--updates") { Description = "Records to update in place (at most 32).", DefaultValueFactory = _ => 5 };
        var timeout = CliDuration.Option("--timeout", "How long to wait for the server.", TimeSpan.FromSeconds(30));
        var parent = ParentOption();
        var command = new Command("client", "The client half: wait for the server's table, verify it, update records in the middle.")
        {
            key, updates, timeout, parent,
        };
        command.SetAction(parseResult => DemoClient.Run(new DemoClient.Options(
            parseResult.GetValue(key), parseResult.GetValue(updates), parseResult.GetValue(timeout), parseResult.GetValue(parent))));
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

    private static Option<int> ParentOption() => new("--parent-pid")
    {
        Description = "Exit (cleaning up) when this process is gone; set by `shmkit demo`.",
        Hidden = true,
    };
}
