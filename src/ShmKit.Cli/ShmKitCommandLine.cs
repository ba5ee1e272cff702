using System.CommandLine;
using System.CommandLine.Help;
using ShmKit.Cli.Commands;

namespace ShmKit.Cli;

/// <summary>Builds the command tree; each verb lives in its own file under Commands/ and exposes <c>Create()</c>.</summary>
internal static class ShmKitCommandLine
{
    internal static int Run(string[] args)
    {
        // A plain Command named "shmkit" rather than RootCommand, whose name (shown in "Usage:") is the executable's
        // file name: ShmKit.Cli under `dotnet run`, shmkit only once installed as a tool.
        var root = new Command("shmkit", "shmkit: System V shared memory, semaphores and message queues from the shell.")
        {
            new HelpOption(),
            new VersionOption(),
        };
        foreach (var command in Commands())
        {
            root.Subcommands.Add(command);
        }

        // Errors are reported by CliErrors, one line each, never with a stack trace: parse errors exit 2 (usage),
        // exceptions from a command's action exit with the code CliErrors assigns (1 operational, 2 usage).
        if (args.Length == 0)
        {
            // A bare `shmkit` is a usage error, but the help says more than one line could.
            root.Parse(["--help"]).Invoke();
            return CliErrors.Usage;
        }

        try
        {
            var parseResult = root.Parse(args);
            if (parseResult.Errors.Count > 0)
            {
                return CliErrors.ReportParseErrors(parseResult);
            }

            return parseResult.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return CliErrors.Report(e);
        }
    }

    private static IEnumerable<Command> Commands() =>
    [
        // Shared memory segments (ipcs -m / ipcmk -M / ipcrm -m and random access).
        ShmListCommand.Create(),
        ShmCreateCommand.Create(),
        ShmInfoCommand.Create(),
        ShmRemoveCommand.Create(),
        ShmLimitsCommand.Create(),
        ShmWriteCommand.Create(),
        ShmReadCommand.Create(),
        ShmDumpCommand.Create(),
        // Semaphore sets, message queues, the demo.
        SemCommand.Create(),
        MsgCommand.Create(),
        DemoCommand.Create(),
    ];
}
