using System.CommandLine;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit man-page</c> (hidden): prints the man page shmkit(1) made from the command tree (<see cref="CliManPage"/>);
/// docs/shmkit.1 is its output, kept in sync by a test.
/// </summary>
internal static class ManPageCommand
{
    internal static Command Create()
    {
        var command = new Command("man-page", "Print the man page shmkit(1), generated from the commands (docs/shmkit.1 is its output).")
        {
            Hidden = true,
        };
        command.SetAction(parseResult =>
        {
            var root = parseResult.RootCommandResult.Command;
            Console.Out.Write(CliManPage.Render(root));
            return CliErrors.Success;
        });
        return command;
    }
}
