using System.CommandLine;
using System.Globalization;

namespace ShmKit.Cli;

/// <summary>
/// The one place where a failure becomes what the user sees: a single line <c>shmkit: &lt;message&gt;</c> on stderr
/// and an exit code. No stack trace is ever printed (set <c>SHMKIT_DEBUG=1</c> to get one for a bug report).
/// Every command relies on it: <see cref="ShmKitCommandLine"/> sends parse errors to <see cref="ReportParseErrors"/>
/// and exceptions escaping a command's action to <see cref="Report"/>; a command that goes on after a failure
/// (as <c>rm</c> does for each of its arguments) calls <see cref="Report"/> itself and keeps the highest code.
/// </summary>
internal static class CliErrors
{
    /// <summary>Everything worked.</summary>
    internal const int Success = 0;

    /// <summary>An operational failure: not found, permission denied, exists, limit reached, timed out, I/O error.</summary>
    internal const int Failure = 1;

    /// <summary>A usage error: bad syntax, bad key, size, mode or hex text, an offset or length out of range.</summary>
    internal const int Usage = 2;

    /// <summary>Writes the one-line message for <paramref name="exception"/> to stderr.</summary>
    /// <returns>The exit code for it.</returns>
    internal static int Report(Exception exception)
    {
        var (message, exitCode) = Describe(exception);
        WriteLine(message);
        if (Environment.GetEnvironmentVariable("SHMKIT_DEBUG") is "1" or "true")
        {
            Console.Error.WriteLine(exception.ToString());
        }

        return exitCode;
    }

    /// <summary>Writes one usage-error line for a failed parse (unknown option, missing or invalid value).</summary>
    /// <returns><see cref="Usage"/>.</returns>
    internal static int ReportParseErrors(ParseResult parseResult)
    {
        string errors = string.Join("; ", parseResult.Errors.Select(e => e.Message.TrimEnd('.')).Distinct());
        var names = new List<string>();
        for (var result = parseResult.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Insert(0, result.Command.Name);
        }

        names[0] = "shmkit";
        WriteLine($"{errors}. See '{string.Join(' ', names)} --help'.");
        return Usage;
    }

    /// <summary>Writes <c>shmkit: message</c> on one line to stderr.</summary>
    internal static void WriteLine(string message) => Console.Error.WriteLine("shmkit: " + OneLine(message));

    /// <summary>
    /// True for the failures a user can cause and fix (everything <see cref="Describe"/> maps to a specific
    /// message); false for bugs, which still get one line from <see cref="Report"/> but should not be swallowed
    /// by a command that carries on after errors.
    /// </summary>
    internal static bool IsUserError(Exception exception) =>
        exception is IOException or UnauthorizedAccessException or ArgumentException or FormatException or OverflowException or TimeoutException;

    /// <summary>The message and exit code for an exception, without printing anything.</summary>
    internal static (string Message, int ExitCode) Describe(Exception exception) => exception switch
    {
        // Order matters: IpcException is an IOException, IpcAccessDeniedException an UnauthorizedAccessException.
        IpcException e => (e.Message, Failure),
        UnauthorizedAccessException e => (e.Message, Failure),
        FileNotFoundException e => (e.Message, Failure),
        DirectoryNotFoundException e => (e.Message, Failure),
        IOException e => (e.Message, Failure),
        ArgumentException e => (WithoutParameterName(e), Usage),
        FormatException e => (e.Message, Usage),
        OverflowException e => (e.Message, Usage),
        OperationCanceledException => ("cancelled.", Failure),
        TimeoutException e => (e.Message, Failure),
        _ => (string.Create(CultureInfo.InvariantCulture, $"unexpected error ({exception.GetType().Name}): {exception.Message} Please report it (SHMKIT_DEBUG=1 prints the details)."), Failure),
    };

    /// <summary>
    /// ArgumentException.Message appends " (Parameter 'name')" and ArgumentOutOfRangeException a line with the
    /// actual value: meant for programmers, noise on a command line.
    /// </summary>
    private static string WithoutParameterName(ArgumentException e)
    {
        string message = e.Message;
        int newline = message.IndexOf('\n', StringComparison.Ordinal);
        if (newline >= 0)
        {
            message = message[..newline].TrimEnd('\r');
        }

        if (e.ParamName is { Length: > 0 } name)
        {
            string suffix = $" (Parameter '{name}')";
            if (message.EndsWith(suffix, StringComparison.Ordinal))
            {
                message = message[..^suffix.Length];
            }
        }

        return message;
    }

    private static string OneLine(string message) =>
        message.ReplaceLineEndings(" ").Trim();
}
