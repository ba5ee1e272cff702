using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using ShmKit.Cli.Commands;

namespace ShmKit.Cli;

/// <summary>Builds the command tree; each verb lives in its own file under Commands/ and exposes <c>Create()</c>.</summary>
internal static class ShmKitCommandLine
{
    internal static int Run(string[] args)
    {
        OutputCheck.GuardClosedStandardStreams();

        // A plain Command named "shmkit" rather than RootCommand, whose name (shown in "Usage:") is the executable's
        // file name: ShmKit.Cli under `dotnet run`, shmkit only once installed as a tool.
        var help = new HelpOption();
        help.Action = new HelpWithExitCodes((HelpAction)help.Action!);
        var root = new Command("shmkit", "shmkit: System V shared memory, semaphores and message queues from the shell.")
        {
            help,
            new VersionOption(),
        };
        foreach (var command in Commands())
        {
            root.Subcommands.Add(command);
        }

        // Errors are reported by CliErrors, one line each, never with a stack trace: parse errors exit 2 (usage),
        // exceptions from a command's action exit with the code CliErrors assigns to their kind.
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

            // No ProcessTerminationTimeout: System.CommandLine's Ctrl-C handling would cancel a token, and a token
            // makes the library poll. Commands that wait handle Ctrl-C themselves (CliWait, the demo, the bench).
            return parseResult.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
        }
        catch (Exception e)
        {
            return CliErrors.Report(e);
        }
    }

    private static IEnumerable<Command> Commands() =>
    [
        // Shared memory segments (ipcs -m / ipcmk -M and random access).
        ShmListCommand.Create(),
        ShmCreateCommand.Create(),
        ShmInfoCommand.Create(),
        LimitsCommand.Create(),
        ShmWriteCommand.Create(),
        ShmReadCommand.Create(),
        ShmDumpCommand.Create(),
        // Any kind, by key or id, like ipcrm.
        RemoveCommand.Create(),
        ChmodCommand.Create(),
        ChownCommand.Create(),
        // Semaphore sets, message queues, the demo.
        SemCommand.Create(),
        MsgCommand.Create(),
        DemoCommand.Create(),
    ];

    /// <summary>The standard help, followed on <c>shmkit --help</c> by the exit codes (<see cref="CliErrors.ExitCodeHelp"/>).</summary>
    private sealed class HelpWithExitCodes(HelpAction help) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            int result = help.Invoke(parseResult);
            if (parseResult.CommandResult.Parent is null)
            {
                Console.Out.WriteLine(CliErrors.ExitCodeHelp);
                Console.Out.WriteLine();
            }

            return result;
        }
    }
}
