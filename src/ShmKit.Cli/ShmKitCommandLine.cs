using System.CommandLine;
using System.CommandLine.Help;
using ShmKit.Cli.Commands;

namespace ShmKit.Cli;

/// <summary>Builds the command tree; each verb lives in its own file under Commands/ and exposes <c>Create()</c>.</summary>
internal static class ShmKitCommandLine
{
    internal static int Run(string[] args)
    {
        OutputCheck.GuardClosedStandardStreams();
        var root = CreateRoot();

        // Shell completion asks with the [suggest:N] directive (the dotnet-suggest protocol); see CliCompletion.
        if (CliCompletion.TryRunSuggestDirective(root, args, Console.Out, out int completed))
        {
            return completed;
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

            // --help and --version work on any command line, even one that would not parse as a command
            // (`shmkit sem op --help` without a key): their actions clear the parse errors.
            if (parseResult.Errors.Count > 0 && parseResult.Action is not { ClearsParseErrors: true })
            {
                return CliErrors.ReportParseErrors(parseResult);
            }

            // No ProcessTerminationTimeout: System.CommandLine's Ctrl-C handling would cancel a token, and a token
            // makes the library poll. Commands that wait handle Ctrl-C themselves (CliWait, the demo).
            return parseResult.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
        }
        catch (Exception e)
        {
            return CliErrors.Report(e);
        }
    }

    /// <summary>
    /// The whole command tree. A plain Command named "shmkit" rather than RootCommand, whose name (shown in "Usage:")
    /// is the executable's file name: ShmKit.Cli under `dotnet run` and in the tool package. (RootCommand would also
    /// bring the [suggest] directive; <see cref="CliCompletion"/> answers it instead.)
    /// </summary>
    internal static Command CreateRoot()
    {
        var help = new HelpOption();

        // -h and --help only: "-?", "/?" and "/h" are DOS conventions, and a bare ? is a glob in every Unix shell.
        foreach (string alias in new[] { "-?", "/?", "/h" })
        {
            help.Aliases.Remove(alias);
        }

        help.Action = new CliHelpAction((HelpAction)help.Action!);
        var version = new VersionOption { Action = new CliVersionAction() };
        var root = new Command("shmkit", "shmkit: System V shared memory, semaphores and message queues from the shell.")
        {
            help,
            version,
        };
        foreach (var command in Commands())
        {
            root.Subcommands.Add(command);
        }

        return root;
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
        // Helping people and shells find their way: completion scripts; hidden: the man page, the old bench command.
        CompletionCommand.Create(),
        ManPageCommand.Create(),
        BenchMovedCommand.Create(),
    ];
}
