using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace ShmKit.Cli;

/// <summary>
/// <c>--help</c> on any command: System.CommandLine's help, then the command's examples (<see cref="CliExamples"/>);
/// on <c>shmkit --help</c> also the exit codes (<see cref="CliErrors.ExitCodeHelp"/>).
/// </summary>
internal sealed class CliHelpAction(HelpAction help) : SynchronousCommandLineAction
{
    /// <summary>Help is shown for any command line that names a command, even one with errors.</summary>
    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parseResult)
    {
        int result = help.Invoke(parseResult);
        var output = parseResult.InvocationConfiguration.Output;
        var command = parseResult.CommandResult.Command;
        var examples = CliExamples.For(command);
        if (examples.Count > 0)
        {
            output.WriteLine("Examples:");
            int width = examples.Max(e => e.CommandLine.Length);
            foreach (var example in examples)
            {
                output.WriteLine($"  {example.CommandLine.PadRight(width)}  # {example.Explanation}");
            }

            output.WriteLine();
        }

        if (parseResult.CommandResult.Parent is null)
        {
            output.WriteLine(CliErrors.ExitCodeHelp);
            output.WriteLine();
        }

        return result;
    }
}
