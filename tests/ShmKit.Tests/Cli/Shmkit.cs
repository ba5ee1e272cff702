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

    /// <summary>
    /// Runs shmkit from a POSIX shell, for what a ProcessStartInfo cannot express: redirections (<c>&gt;/dev/full</c>,
    /// <c>&gt;&amp;-</c>), pipes from other programs (<c>yes |</c>) and arguments that are not UTF-8. In
    /// <paramref name="script"/>, <c>"$@"</c> is the shmkit command line (the dotnet host, the CLI and
    /// <paramref name="args"/>), so <c>"$@" --text "$(printf '\377')" &gt;/dev/full</c> appends an argument and redirects.
    /// </summary>
    internal static CliResult RunShell(string script, params string[] args)
    {
        using var child = ChildProcess.Start("sh", ["-c", script, "sh", ChildProcess.DotnetHost, ChildProcess.CliDll, .. args]);
        child.StandardInput.Close();
        int code = child.WaitForExit(TimeSpan.FromSeconds(60));
        return new CliResult([script, .. args], code, child.StandardOutput, child.StandardError);
    }

    /// <summary>Runs shmkit with stdout sent to a file, and returns stdout as the exact bytes (no decoding).</summary>
    internal static (CliResult Result, byte[] Stdout) RunBytes(params string[] args)
    {
        string file = Path.GetTempFileName();
        try
        {
            var result = RunShell($"exec \"$@\" >'{file}'", args);
            return (result, File.ReadAllBytes(file));
        }
        finally
        {
            File.Delete(file);
        }
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

/// <summary>
/// The exit codes shmkit documents (shmkit --help, README): the same kind of failure has the same code in every
/// command. Written out here, not taken from the CLI, because they are an interface scripts depend on.
/// </summary>
internal static class ExitCode
{
    internal const int Failure = 1;
    internal const int Usage = 2;
    internal const int NotFound = 3;
    internal const int Denied = 4;
    internal const int Exists = 5;
    internal const int Timeout = 6;
    internal const int TooLarge = 7;
    internal const int Limit = 8;
    internal const int Interrupted = 130;
    internal const int Terminated = 143;
}
