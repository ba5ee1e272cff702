using System.CommandLine;
using System.CommandLine.Invocation;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ShmKit.Cli;

/// <summary>
/// <c>shmkit --version</c>: the version, the commit it was built from and how it runs, on one line:
/// <c>shmkit 0.1.0-preview.1 (commit 0123abcd…, .NET 10.0.1, native)</c>. The commit comes from the build
/// (SourceLink's SourceRevisionId, carried in AssemblyInformationalVersion after the '+').
/// </summary>
internal static class CliVersion
{
    /// <summary>The version without the commit, e.g. <c>0.1.0-preview.1</c>.</summary>
    internal static string Version => Split().Version;

    /// <summary>The full commit id the program was built from, or null (built without git).</summary>
    internal static string? Commit => Split().Commit;

    /// <summary>The line <c>shmkit --version</c> prints.</summary>
    internal static string Line
    {
        get
        {
            var (version, commit) = Split();
            string runtime = RuntimeFeature.IsDynamicCodeSupported ? "JIT" : "native";
            string built = commit is null ? "commit unknown" : "commit " + commit;
            return $"shmkit {version} ({built}, .NET {Environment.Version}, {runtime}, {RuntimeInformation.RuntimeIdentifier})";
        }
    }

    private static (string Version, string? Commit) Split()
    {
        string informational = typeof(CliVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        int plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? (informational, null) : (informational[..plus], informational[(plus + 1)..]);
    }
}

/// <summary>The action of <c>--version</c>: <see cref="CliVersion.Line"/>.</summary>
internal sealed class CliVersionAction : SynchronousCommandLineAction
{
    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parseResult)
    {
        parseResult.InvocationConfiguration.Output.WriteLine(CliVersion.Line);
        return CliErrors.Success;
    }
}
