using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace ShmKit.Tests.Cli;

/// <summary>
/// The README's examples, run as a reader would run them: the C# example compiled from the README's own text against
/// the built library and run as two real processes, and the CLI session run line by line in a shell. Each uses a test
/// key in place of the README's, and each must leave nothing behind.
/// </summary>
public partial class ReadmeTests
{
    /// <summary>README.md at the root of the repository (found upwards from the test assembly).</summary>
    internal static string ReadmePath { get; } = FindReadme();

    [Fact]
    public void The_CSharp_Example_Runs_As_A_Server_And_A_Client_Process()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        string source = Block("csharp-example", "csharp");
        const string readmeKey = "0x5348_4b31";
        Assert.Contains(readmeKey, source, StringComparison.Ordinal);
        string directory = Compile(source.Replace(readmeKey, key.ToString(), StringComparison.Ordinal));
        try
        {
            string program = Path.Combine(directory, "ReadmeExample.dll");

            // The client may start first: it waits for the server's objects to appear, then for the gate.
            using var client = ChildProcess.Start(ChildProcess.DotnetHost, [program, "client"]);
            using var server = ChildProcess.Start(ChildProcess.DotnetHost, [program, "server"]);
            int clientCode = client.WaitForExit(TimeSpan.FromSeconds(60));
            int serverCode = server.WaitForExit(TimeSpan.FromSeconds(60));
            string transcript = $"server ({serverCode}):\n{server.StandardOutput}{server.StandardError}\nclient ({clientCode}):\n{client.StandardOutput}{client.StandardError}";
            Assert.True(serverCode == 0 && clientCode == 0, transcript);
            Assert.Contains("the client made it 43", server.StandardOutput, StringComparison.Ordinal);

            // The owner's Dispose removed both objects.
            Assert.DoesNotContain(SharedMemorySegment.GetAll(), s => s.Key == key);
            Assert.DoesNotContain(SemaphoreSet.GetAll(), s => s.Key == key);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void The_Cli_Example_Runs_And_Leaves_Nothing_Behind()
    {
        using var cleanup = new IpcCleanup();
        string script = Block("cli-example", "sh");
        var keys = new Dictionary<string, IpcKey>(StringComparer.Ordinal);
        foreach (Match match in KeyPattern().Matches(script))
        {
            if (!keys.ContainsKey(match.Value))
            {
                keys[match.Value] = cleanup.NewKey();
            }
        }

        Assert.True(keys.Count >= 3, "the example uses a key per kind of object");
        string session = KeyPattern().Replace(script, m => keys[m.Value].ToString());

        // `shmkit` is the built CLI; every line must succeed (set -e), as the README shows it.
        string prelude = "set -e\nshmkit() { \"$SHMKIT_DOTNET\" \"$SHMKIT_CLI\" \"$@\"; }\n";
        using var shell = ChildProcess.Start("sh", ["-c", prelude + session], new Dictionary<string, string>
        {
            ["SHMKIT_DOTNET"] = ChildProcess.DotnetHost,
            ["SHMKIT_CLI"] = ChildProcess.CliDll,
        });
        shell.StandardInput.Close();
        int code = shell.WaitForExit(TimeSpan.FromSeconds(60));
        Assert.True(code == 0, $"the README's CLI example failed ({code}):\n{shell.StandardOutput}\n{shell.StandardError}");
        Assert.Contains("2\thello", shell.StandardOutput, StringComparison.Ordinal);

        foreach (var key in keys.Values)
        {
            Assert.DoesNotContain(SharedMemorySegment.GetAll(), s => s.Key == key);
            Assert.DoesNotContain(SemaphoreSet.GetAll(), s => s.Key == key);
            Assert.DoesNotContain(MessageQueue.GetAll(), q => q.Key == key);
        }
    }

    [Fact]
    public void The_Readme_Lists_The_Exit_Codes_That_Help_Lists()
    {
        string readme = File.ReadAllText(ReadmePath);
        Assert.Contains("Exit codes", readme, StringComparison.Ordinal);
        string help = Shmkit.Ok("--help");
        foreach (Match line in HelpCodePattern().Matches(help))
        {
            Assert.Contains($"| {line.Groups[1].Value} |", readme, StringComparison.Ordinal);
        }

        Assert.Contains("| 130, 143 |", readme, StringComparison.Ordinal);
    }

    /// <summary>The fenced block of <paramref name="language"/> between <c>&lt;!-- name --&gt;</c> and <c>&lt;!-- /name --&gt;</c> in the README.</summary>
    private static string Block(string name, string language)
    {
        string readme = File.ReadAllText(ReadmePath);
        int start = readme.IndexOf($"<!-- {name} -->", StringComparison.Ordinal);
        int end = readme.IndexOf($"<!-- /{name} -->", StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, $"README.md has no <!-- {name} --> ... <!-- /{name} --> markers");
        string section = readme[start..end];
        int fence = section.IndexOf("```" + language + "\n", StringComparison.Ordinal);
        Assert.True(fence >= 0, $"no ```{language} block between the {name} markers");
        int body = fence + 4 + language.Length;
        return section[body..section.IndexOf("\n```", body, StringComparison.Ordinal)] + "\n";
    }

    /// <summary>
    /// Compiles <paramref name="source"/> as a console program the way <c>dotnet new console</c> with a reference to
    /// ShmKit would (implicit usings, nullable, warnings as errors) and returns a directory ready to run it.
    /// </summary>
    private static string Compile(string source)
    {
        string globalUsings = string.Concat(new[] { "System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Threading", "System.Threading.Tasks" }
            .Select(n => $"global using global::{n};\n"));
        var options = new CSharpParseOptions(LanguageVersion.Latest);
        string runtime = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var references = Directory.EnumerateFiles(runtime, "*.dll")
            .Where(IsManagedAssembly)
            .Select(f => MetadataReference.CreateFromFile(f))
            .Append(MetadataReference.CreateFromFile(typeof(SharedMemorySegment).Assembly.Location));
        var compilation = CSharpCompilation.Create(
            "ReadmeExample",
            [CSharpSyntaxTree.ParseText(source, options, "README.md"), CSharpSyntaxTree.ParseText(globalUsings, options, "GlobalUsings.g.cs")],
            references,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable, generalDiagnosticOption: ReportDiagnostic.Error));

        string directory = Directory.CreateTempSubdirectory("shmkit-readme-").FullName;
        var result = compilation.Emit(Path.Combine(directory, "ReadmeExample.dll"));
        string problems = string.Join('\n', result.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning));
        Assert.True(result.Success && problems.Length == 0, "the README's C# example does not compile cleanly:\n" + problems);

        File.Copy(typeof(SharedMemorySegment).Assembly.Location, Path.Combine(directory, "ShmKit.dll"));
        string version = string.Create(CultureInfo.InvariantCulture, $"{Environment.Version.Major}.{Environment.Version.Minor}.0");
        File.WriteAllText(Path.Combine(directory, "ReadmeExample.runtimeconfig.json"), $$"""
            { "runtimeOptions": { "tfm": "net{{Environment.Version.Major}}.{{Environment.Version.Minor}}", "framework": { "name": "Microsoft.NETCore.App", "version": "{{version}}" } } }
            """, Encoding.UTF8);
        return directory;
    }

    private static bool IsManagedAssembly(string path)
    {
        try
        {
            System.Reflection.AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }

    private static string FindReadme()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "README.md");
            if (File.Exists(candidate) && File.Exists(Path.Combine(directory.FullName, "ShmKit.slnx")))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("README.md not found above " + AppContext.BaseDirectory);
    }

    /// <summary>A line of the exit code list in <c>shmkit --help</c>: two spaces, a one-digit code, spaces.</summary>
    [GeneratedRegex(@"(?m)^  ([0-9]) {4}")]
    private static partial Regex HelpCodePattern();

    /// <summary>The example keys in the README's CLI session: 0x followed by four hex digits.</summary>
    [GeneratedRegex(@"\b0x[0-9a-f]{4}\b")]
    private static partial Regex KeyPattern();
}
