using System.Globalization;
using System.Text.RegularExpressions;

namespace ShmKit.Tests.Cli;

/// <summary>Runs the built shmkit CLI as a real process and checks the conventions every command follows.</summary>
internal static partial class Shmkit
{
    internal static CliResult Run(params string[] args) => RunWithInput(null, args);

    internal static CliResult RunWithInput(byte[]? stdin, params string[] args)
    {
        var (code, stdout, stderr) = ChildProcess.RunCli(args, stdin);
        return new CliResult(args, code, stdout, stderr);
    }

    /// <summary>Runs and asserts exit code 0 with nothing on stderr.</summary>
    internal static string Ok(params string[] args) => Run(args).AssertSuccess();

    /// <summary>
    /// The id in "Shared memory id: N", "Semaphore id: N" or "Message queue id: N" (what ipcmk and the shmkit create
    /// commands print).
    /// </summary>
    internal static int ParseId(string output)
    {
        var match = IdPattern().Match(output);
        Assert.True(match.Success, $"no 'Shared memory id: N', 'Semaphore id: N' or 'Message queue id: N' in:\n{output}");
        return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"(?:Shared memory|Semaphore|Message queue) id: (\d+)")]
    private static partial Regex IdPattern();
}

internal sealed record CliResult(string[] Args, int ExitCode, string Stdout, string Stderr)
{
    internal string AssertSuccess()
    {
        Assert.True(ExitCode == 0, $"shmkit {string.Join(' ', Args)} exited {ExitCode}.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        Assert.Equal(string.Empty, Stderr);
        return Stdout;
    }

    /// <summary>Asserts the error convention: the exit code, nothing on stdout, one "shmkit: ..." line on stderr, no stack trace.</summary>
    internal string AssertError(int exitCode)
    {
        Assert.True(ExitCode == exitCode, $"shmkit {string.Join(' ', Args)} exited {ExitCode}, expected {exitCode}.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        Assert.Equal(string.Empty, Stdout);
        string[] lines = Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"expected one stderr line, got:\n{Stderr}");
        Assert.StartsWith("shmkit: ", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain(" at ShmKit", Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", Stderr, StringComparison.Ordinal);
        return lines[0];
    }
}
