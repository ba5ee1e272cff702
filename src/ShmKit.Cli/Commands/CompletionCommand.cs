using System.CommandLine;

namespace ShmKit.Cli.Commands;

/// <summary><c>shmkit completion bash|zsh|fish</c>: prints a shell completion script (see <see cref="CliCompletion"/>).</summary>
internal static class CompletionCommand
{
    internal static Command Create()
    {
        var shell = new Argument<string>("shell") { Description = "The shell: bash, zsh or fish." };
        shell.AcceptOnlyFromAmong(CliCompletion.Shells);
        var command = new Command("completion", "Print a completion script for bash, zsh or fish: Tab then completes commands, options and option values. The script asks shmkit itself (the [suggest] directive of System.CommandLine), so it stays right as shmkit changes.")
        {
            shell,
        };
        command.SetAction(parseResult =>
        {
            Console.Out.Write(CliCompletion.Script(parseResult.GetValue(shell)!));
            Console.Out.WriteLine();
            return CliErrors.Success;
        });
        return command;
    }
}
