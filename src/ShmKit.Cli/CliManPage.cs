using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ShmKit.Cli;

/// <summary>
/// The man page shmkit(1), generated from the command tree: every visible command with its arguments, options and
/// examples (<see cref="CliExamples"/>), the exit codes (<see cref="CliErrors.ExitCodeHelp"/>), the environment.
/// <c>shmkit man-page &gt; docs/shmkit.1</c> writes it; a test fails when docs/shmkit.1 differs from what this makes, so
/// the page changes with the commands. Plain man(7) macros, every '-' escaped so options copy as typed.
/// </summary>
internal static partial class CliManPage
{
    /// <summary>The page for the tree under <paramref name="root"/>, in roff with the man macros.</summary>
    internal static string Render(Command root)
    {
        var page = new StringBuilder();
        void Line(string text) => page.Append(text).Append('\n');

        Line(@".\"" shmkit(1). Generated from the command tree (src/ShmKit.Cli/CliManPage.cs) by `shmkit man-page`;");
        Line(@".\"" a test keeps docs/shmkit.1 in sync with it. Do not edit by hand.");
        Line(@".TH SHMKIT 1 """" ""ShmKit"" ""User Commands""");
        Line(".SH NAME");
        Line(@"shmkit \- System V shared memory, semaphores and message queues from the shell");
        Line(".SH SYNOPSIS");
        Line(".B shmkit");
        Line(@".I command");
        Line(@".RI [ options ]");
        Line(".br");
        Line(@".B shmkit \-\-help");
        Line(".br");
        Line(@".B shmkit \-\-version");
        Line(".SH DESCRIPTION");
        Line(Text("shmkit lists, creates, inspects, edits and removes System V shared memory segments, semaphore sets and message queues, in the manner of ipcs(1), ipcmk(1) and ipcrm(1), and runs a two-process demo. Keys are 0x... (hex), decimal or path:projid (ftok); --id N names an object by its id instead. Objects are created with mode 0600 (owner only) unless --mode says otherwise."));
        Line(".PP");
        Line(Text("A mistake prints one line, starting with shmkit:, on standard error and exits with the code of its kind (EXIT STATUS). Every command takes -h and --help, which show its options and examples."));
        Line(".SH COMMANDS");
        foreach (var command in Visible(root))
        {
            RenderCommand(page, command);
        }

        Line(".SH EXIT STATUS");
        Line(Text("The same in every command:"));
        foreach (var (code, meaning) in ExitCodes())
        {
            Line(".TP");
            Line(".B " + code);
            Line(Text(meaning));
        }

        Line(".SH ENVIRONMENT");
        Line(".TP");
        Line(".B NO_COLOR");
        Line(Text("When set (to anything), tables are plain text, as when standard output is not a terminal."));
        Line(".TP");
        Line(".B SHMKIT_DEBUG");
        Line(Text("When 1 or true, an error also prints its exception with the stack trace (for bug reports)."));
        Line(".SH EXAMPLES");
        RenderExamples(page, CliExamples.For(root));
        Line(".SH SEE ALSO");
        Line(Text("ipcs(1), ipcmk(1), ipcrm(1), sysvipc(7), shmget(2), semop(2), msgsnd(2), msgrcv(2)"));
        return page.ToString();
    }

    private static void RenderCommand(StringBuilder page, Command command)
    {
        string path = CliExamples.PathOf(command);
        var usage = new StringBuilder("shmkit ").Append(path);
        foreach (var argument in command.Arguments.Where(a => !a.Hidden))
        {
            usage.Append(argument.Arity.MinimumNumberOfValues == 0 ? " [<" : " <").Append(argument.Name)
                .Append(argument.Arity.MaximumNumberOfValues > 1 ? ">..." : ">").Append(argument.Arity.MinimumNumberOfValues == 0 ? "]" : string.Empty);
        }

        if (command.Subcommands.Any(c => !c.Hidden))
        {
            usage.Append(" <command>");
        }

        page.Append(".SS \"").Append(Escape(usage.ToString())).Append("\"\n");
        page.Append(Text(command.Description ?? string.Empty)).Append('\n');
        foreach (var argument in command.Arguments.Where(a => !a.Hidden))
        {
            page.Append(".TP\n.I ").Append(Escape(argument.Name)).Append('\n').Append(Text(argument.Description ?? string.Empty)).Append('\n');
        }

        foreach (var option in command.Options.Where(o => !o.Hidden && o is not System.CommandLine.Help.HelpOption && o is not VersionOption))
        {
            var names = option.Aliases.OrderBy(a => a.Length).Append(option.Name).Select(a => @"\fB" + Escape(a) + @"\fR");
            string value = option.ValueType == typeof(bool) ? string.Empty : @" \fI" + Escape(option.HelpName ?? option.Name.TrimStart('-')) + @"\fR";
            page.Append(".TP\n").Append(string.Join(", ", names)).Append(value).Append('\n');
            page.Append(Text((option.Description ?? string.Empty) + (option.Required ? " Required." : string.Empty))).Append('\n');
        }

        var examples = CliExamples.For(command);
        if (examples.Count > 0)
        {
            page.Append(".PP\nExamples:\n");
            RenderExamples(page, examples);
        }
    }

    private static void RenderExamples(StringBuilder page, IReadOnlyList<CliExample> examples)
    {
        page.Append(".PP\n.RS 4\n.nf\n");
        foreach (var example in examples)
        {
            page.Append(Escape(example.CommandLine)).Append('\n');
            page.Append("    ").Append(Escape(example.Explanation)).Append('\n');
        }

        page.Append(".fi\n.RE\n");
    }

    /// <summary>Every visible command below <paramref name="root"/>, depth first, in the order of the help.</summary>
    private static IEnumerable<Command> Visible(Command root)
    {
        foreach (var command in root.Subcommands.Where(c => !c.Hidden))
        {
            yield return command;
            foreach (var sub in Visible(command))
            {
                yield return sub;
            }
        }
    }

    /// <summary>The exit codes as <see cref="CliErrors.ExitCodeHelp"/> lists them ("  3    not found: ...").</summary>
    private static IEnumerable<(string Code, string Meaning)> ExitCodes()
    {
        foreach (string line in CliErrors.ExitCodeHelp.Split('\n'))
        {
            if (ExitCodeLine().Match(line) is { Success: true } match)
            {
                yield return (match.Groups["code"].Value, match.Groups["meaning"].Value.Trim());
            }
        }
    }

    /// <summary>A paragraph: escaped, and never starting with a control character.</summary>
    private static string Text(string text) => Escape(text.ReplaceLineEndings(" ").Trim());

    /// <summary>Escapes backslashes and hyphens, and a leading '.' or '\'' that roff would read as a request.</summary>
    private static string Escape(string text)
    {
        string escaped = text.Replace(@"\", @"\e", StringComparison.Ordinal).Replace("-", @"\-", StringComparison.Ordinal);
        return escaped.Length > 0 && escaped[0] is '.' or '\'' ? @"\&" + escaped : escaped;
    }

    [GeneratedRegex(@"^\s+(?<code>[0-9]+)\s+(?<meaning>\S.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex ExitCodeLine();
}
