using System.CommandLine;
using System.CommandLine.Invocation;
using System.Globalization;
using System.Text.RegularExpressions;

namespace ShmKit.Cli;

/// <summary>
/// The one place where a failure becomes what the user sees: a single line <c>shmkit: &lt;message&gt;</c> on stderr
/// and an exit code. No stack trace is ever printed (set <c>SHMKIT_DEBUG=1</c> to get one for a bug report).
/// Every command relies on it: <see cref="ShmKitCommandLine"/> sends parse errors to <see cref="ReportParseErrors"/>
/// and exceptions escaping a command's action to <see cref="Report"/>; a command that goes on after a failure
/// (as <c>rm</c> does for each of its arguments) calls <see cref="Report"/> itself and keeps the highest code.
/// </summary>
/// <remarks>
/// <para><b>Exit codes.</b> One kind of failure has one code in every command (<see cref="ExitCodeHelp"/>, printed by
/// <c>shmkit --help</c> and copied in the README): scripts can tell "not there" from "not allowed" from "timed out".</para>
/// <para><b>Words.</b> The library's messages say what failed and why, in its own terms: its parameters
/// (<c>MessageReceiveOptions.Truncate</c>) and the util-linux tools (<c>ipcs</c>, <c>ipcrm</c>). The CLI speaks in
/// its options and commands instead: <see cref="Describe"/> replaces parameter names with the options that set them,
/// drops the library's tool hints, and adds a <c>shmkit</c> command chosen by the exception's type, kind and key.</para>
/// </remarks>
internal static partial class CliErrors
{
    /// <summary>Everything worked.</summary>
    internal const int Success = 0;

    /// <summary>A failure not listed below: an I/O error, a received message that could not be written, a failed demo.</summary>
    internal const int Failure = 1;

    /// <summary>A usage error: bad syntax, bad key, size, mode or hex text, an offset or length out of range.</summary>
    internal const int Usage = 2;

    /// <summary>No such object (or it was removed while in use), file or directory.</summary>
    internal const int NotFound = 3;

    /// <summary>Permission denied (EACCES, EPERM).</summary>
    internal const int Denied = 4;

    /// <summary>The object exists already (exclusive create; a demo server running or left over).</summary>
    internal const int Exists = 5;

    /// <summary>Timed out, or would have had to wait with <c>--nowait</c>.</summary>
    internal const int Timeout = 6;

    /// <summary>Too large: the payload does not fit where it goes, a size or value is above what is allowed (E2BIG, ERANGE).</summary>
    internal const int TooLarge = 7;

    /// <summary>A system-wide limit is reached (ENOSPC, ENOMEM): too many objects, or not enough memory.</summary>
    internal const int Limit = 8;

    /// <summary>Ended by Ctrl-C (128 + SIGINT), as a shell reports it.</summary>
    internal const int Interrupted = 130;

    /// <summary>Ended by SIGTERM (128 + SIGTERM).</summary>
    internal const int Terminated = 143;

    /// <summary>The exit codes for <c>shmkit --help</c> (and the README's table).</summary>
    internal const string ExitCodeHelp = """
        Exit codes (the same in every command):
          0    success
          1    a failure not listed below (an I/O error; a received message that could not be written)
          2    usage: bad syntax, or an option value that does not parse or is out of range
          3    not found: no such segment, semaphore set, queue, file or directory (or removed while in use)
          4    permission denied
          5    already exists (create --exclusive; a demo server running or left over under the key)
          6    timed out, or would have had to wait with --nowait
          7    too large: the payload does not fit (segment, msgmax, --max-bytes), or a semaphore would pass 32767
          8    a system-wide limit is reached (shmmni, shmall, semmni, msgmni) or memory ran out
          130  interrupted by Ctrl-C (SIGINT); 143: stopped by SIGTERM
        """;

    /// <summary>
    /// The library's words for its parameters, and the options that set them. Applied to every message, so a library
    /// hint such as "pass MessageReceiveOptions.Truncate" reaches the user as "add --truncate".
    /// </summary>
    private static readonly (Regex Pattern, string Replacement)[] s_libraryWords =
    [
        (LibraryWord(@"Receive it with a buffer of [^()]*\(every message fits\)"), "Leave out --max-bytes (the default fits every message)"),
        (LibraryWord(@"pass MessageReceiveOptions\.Truncate to take it cut to the buffer"), "add --truncate to take it cut to --max-bytes"),
        (LibraryWord(@"Pass a larger buffer, or ask for truncation"), "Give a larger --max-bytes, or add --truncate"),
        (LibraryWord(@"MessageReceiveOptions\.Truncate"), "--truncate"),
        (LibraryWord(@"MessageReceiveOptions\.ExceptType"), "--except"),
        (LibraryWord(@"pass SharedMemoryCreateOptions\.NoReserve"), "add --no-reserve"),
        (LibraryWord(@"SharedMemoryCreateOptions\.NoReserve"), "--no-reserve"),
        (LibraryWord(@"SharedMemoryCreateOptions\.HugePages"), "--huge-pages"),
        (LibraryWord(@",? or pass undo: false for counting semaphores that one process releases and another acquires"), " (without --undo only the value's limit applies)"),
        (LibraryWord(@"pass undo: false"), "leave out --undo"),
        (LibraryWord(@" \(SetMaxBytes\)"), string.Empty),
        (LibraryWord(@"System\.(?:Int16|Int32|Int64|UInt32|UInt64)"), "a whole number"),
    ];

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

    /// <summary>
    /// Writes one usage-error line for a failed parse (unknown option, missing or invalid value), with
    /// System.CommandLine's typo corrections for words it did not recognize: <c>shmkit lst</c> gets "Did you mean 'list'?".
    /// </summary>
    /// <returns><see cref="Usage"/>.</returns>
    internal static int ReportParseErrors(ParseResult parseResult)
    {
        var corrections = TypoCorrections(parseResult);
        var errors = parseResult.Errors
            .Select(e => Speak(e.Message).TrimEnd('.'))
            // For `shmkit lst` the missing command is the misspelt one: the correction says it better.
            .Where(e => corrections.Count == 0 || !e.StartsWith("Required command was not provided", StringComparison.Ordinal))
            .Distinct();
        var names = new List<string>();
        for (var result = parseResult.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Insert(0, result.Command.Name);
        }

        names[0] = "shmkit";
        string didYouMean = string.Concat(corrections.Select(c => corrections.Count == 1
            ? $" Did you mean {Alternatives(c.Suggestions)}?"
            : $" For '{c.Token}', did you mean {Alternatives(c.Suggestions)}?"));
        WriteLine($"{string.Join("; ", errors)}.{didYouMean} See '{string.Join(' ', names)} --help'.");
        return Usage;

        static string Alternatives(IReadOnlyList<string> words) =>
            words.Count == 1 ? $"'{words[0]}'" : string.Join(", ", words.Take(words.Count - 1).Select(w => $"'{w}'")) + $" or '{words[^1]}'";
    }

    /// <summary>
    /// System.CommandLine's typo corrections (its ParseErrorAction, which ranks the visible commands and options by
    /// edit distance) for each unrecognized word, without the rest of what that action prints.
    /// </summary>
    private static List<(string Token, IReadOnlyList<string> Suggestions)> TypoCorrections(ParseResult parseResult)
    {
        var corrections = new List<(string Token, IReadOnlyList<string> Suggestions)>();
        if (parseResult.UnmatchedTokens.Count == 0 || parseResult.Action is not ParseErrorAction action)
        {
            return corrections;
        }

        // The action writes "'lst' was not matched. Did you mean one of the following?", then one suggestion a line.
        action.ShowHelp = false;
        action.ShowTypoCorrections = true;
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        parseResult.Invoke(new InvocationConfiguration { Output = output, Error = TextWriter.Null, EnableDefaultExceptionHandler = false });
        foreach (string line in output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (NotMatchedLine().Match(line) is { Success: true } header)
            {
                corrections.Add((header.Groups["token"].Value, new List<string>()));
            }
            else if (corrections.Count > 0 && !line.Contains(' ', StringComparison.Ordinal))
            {
                ((List<string>)corrections[^1].Suggestions).Add(line);
            }
        }

        corrections.RemoveAll(c => c.Suggestions.Count == 0);
        return corrections;
    }

    /// <summary>Writes <c>shmkit: message</c> on one line to stderr.</summary>
    internal static void WriteLine(string message) => Console.Error.WriteLine("shmkit: " + OneLine(message));

    /// <summary>
    /// True for the failures a user can cause and fix (everything <see cref="Describe"/> maps to a specific
    /// message); false for bugs, which still get one line from <see cref="Report"/> but should not be swallowed
    /// by a command that carries on after errors.
    /// </summary>
    internal static bool IsUserError(Exception exception) =>
        exception is CliException or IOException or UnauthorizedAccessException or ArgumentException or FormatException or OverflowException or TimeoutException;

    /// <summary>The message and exit code for an exception, without printing anything.</summary>
    internal static (string Message, int ExitCode) Describe(Exception exception) => exception switch
    {
        // Order matters: the Ipc*Exceptions are IpcExceptions are IOExceptions; IpcAccessDeniedException is an
        // UnauthorizedAccessException; SemaphoreSetNotInitializedException and ArgumentOutOfRangeException are more
        // specific than TimeoutException and ArgumentException.
        CliException e => (e.Message, e.ExitCode),
        IpcObjectNotFoundException e => (WithHint(e.Message, "`shmkit list --all` shows what exists."), NotFound),
        IpcObjectRemovedException e => (Speak(e.Message), NotFound),
        IpcObjectExistsException e => (WithHint(e.Message, e.Key is { IsPrivate: false } key ? $"`shmkit rm {key} --kind {KindOption(e.Kind)}` removes it." : null), Exists),
        IpcSizeException e => (Speak(e.Message), TooLarge),
        IpcLimitExceededException e => (WithHint(e.Message, "`shmkit limits` shows the limits and their use, `shmkit list --all` what uses them."), Limit),
        IpcAccessDeniedException e => (WithHint(e.Message, "`shmkit list --all` shows owners and modes (it works for any user)."), Denied),
        IpcException e => (Speak(e.Message), Failure),
        UnauthorizedAccessException e => (e.Message, Denied),
        FileNotFoundException e => (e.Message, NotFound),
        DirectoryNotFoundException e => (e.Message, NotFound),
        IOException e => (e.Message, Failure),
        ArgumentOutOfRangeException e when e.Message.Contains("(ERANGE)", StringComparison.Ordinal) => (Speak(WithoutParameterName(e)), TooLarge),
        ArgumentException e => (Speak(WithoutParameterName(e)), Usage),
        FormatException e => (e.Message, Usage),
        OverflowException e => (e.Message, Usage),
        OperationCanceledException => ("interrupted.", Interrupted),
        SemaphoreSetNotInitializedException e => (WithHint(e.Message, e.Id is int id ? string.Create(CultureInfo.InvariantCulture, $"`shmkit sem info --id {id}` shows it; `shmkit rm --id {id} --kind sem` removes it if it is yours.") : null), Timeout),
        TimeoutException e when e.Message.StartsWith("sem", StringComparison.Ordinal) =>
            (WithHint(e.Message, "`shmkit sem info` on the set shows each semaphore's last pid and its waiters."), Timeout),
        TimeoutException e => (Speak(e.Message), Timeout),
        _ => (string.Create(CultureInfo.InvariantCulture, $"unexpected error ({exception.GetType().Name}): {exception.Message} Please report it (SHMKIT_DEBUG=1 prints the details)."), Failure),
    };

    /// <summary>
    /// The library's message in the CLI's words (<see cref="s_libraryWords"/>), without its tool hints (a sentence or
    /// parenthesis naming `ipcs`, `ipcrm` or `shmkit` in backticks), then <paramref name="hint"/>.
    /// </summary>
    private static string WithHint(string message, string? hint)
    {
        string spoken = Speak(message);
        return hint is null ? spoken : spoken.TrimEnd() + " " + hint;
    }

    private static string Speak(string message)
    {
        string text = message;
        foreach (var (pattern, replacement) in s_libraryWords)
        {
            text = pattern.Replace(text, replacement);
        }

        text = ToolParenthesis().Replace(text, string.Empty);
        var sentences = SentenceEnd().Split(text).Where(s => !ToolCommand().IsMatch(s));
        return Whitespace().Replace(string.Join(' ', sentences), " ").Replace(" ,", ",", StringComparison.Ordinal).Replace(" .", ".", StringComparison.Ordinal).Trim();
    }

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

    /// <summary>The <c>--kind</c> value of <c>rm</c>, <c>chmod</c> and <c>chown</c> for a kind.</summary>
    private static string KindOption(IpcObjectKind kind) => kind switch
    {
        IpcObjectKind.SharedMemory => "shm",
        IpcObjectKind.SemaphoreSet => "sem",
        _ => "msg",
    };

    private static string OneLine(string message) =>
        message.ReplaceLineEndings(" ").Trim();

    private static Regex LibraryWord(string pattern) => new(pattern, RegexOptions.CultureInvariant);

    /// <summary>A parenthesis that names a tool command in backticks: "(`shmkit list --all` shows what exists)".</summary>
    [GeneratedRegex(@"\s*\([^()`]*`(?:shmkit|ipcs|ipcrm|ipcmk)\b[^()]*\)", RegexOptions.CultureInvariant)]
    private static partial Regex ToolParenthesis();

    /// <summary>A tool command in backticks.</summary>
    [GeneratedRegex(@"`(?:shmkit|ipcs|ipcrm|ipcmk)\b", RegexOptions.CultureInvariant)]
    private static partial Regex ToolCommand();

    /// <summary>Where a sentence ends: after '.', '!' or '?' and before whitespace and a capital letter or backtick.</summary>
    [GeneratedRegex(@"(?<=[.!?])\s+(?=[A-Z`(])", RegexOptions.CultureInvariant)]
    private static partial Regex SentenceEnd();

    /// <summary>The header of a typo correction: "'lst' was not matched. Did you mean one of the following?".</summary>
    [GeneratedRegex(@"^'(?<token>.*)' was not matched\.", RegexOptions.CultureInvariant)]
    private static partial Regex NotMatchedLine();

    [GeneratedRegex(@"\s{2,}", RegexOptions.CultureInvariant)]
    private static partial Regex Whitespace();
}
