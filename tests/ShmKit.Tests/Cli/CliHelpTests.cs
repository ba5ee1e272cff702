using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;
using ShmKit.Cli;

namespace ShmKit.Tests.Cli;

/// <summary>
/// The CLI that helps people find their way: examples in every command's help (and they parse), typo corrections,
/// a pointer for the removed bench command, --version with the commit, completion scripts on the [suggest]
/// directive, and the man page generated from the command tree and kept in sync with docs/shmkit.1.
/// </summary>
public partial class CliHelpTests
{
    private static string ManPagePath => Path.Combine(Path.GetDirectoryName(ReadmeTests.ReadmePath)!, "docs", "shmkit.1");

    [Fact]
    public void Every_Visible_Command_Has_Examples_And_Every_Example_Parses()
    {
        var root = ShmKitCommandLine.CreateRoot();
        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var command in Visible(root).Prepend(root))
        {
            string path = CliExamples.PathOf(command);
            paths.Add(path);
            var examples = CliExamples.For(command);
            Assert.True(examples.Count is >= 1 and <= 3, $"'shmkit {path}' has {examples.Count} examples; give it one or two in CliExamples");
            foreach (var example in examples)
            {
                // The shmkit part of a shell line: `source <(shmkit completion bash)`, `shmkit read 0x1234 > f`.
                string line = ShmkitPart().Match(example.CommandLine).Value;
                var tokens = CommandLineParser.SplitCommandLine(line).Skip(1).ToArray();
                var result = root.Parse(tokens);
                Assert.True(result.Errors.Count == 0, $"the example '{example.CommandLine}' does not parse: {string.Join("; ", result.Errors.Select(e => e.Message))}");
                // An example of a command runs it or, for a group such as `sem`, one of its subcommands.
                string ran = CliExamples.PathOf(result.CommandResult.Command);
                Assert.True(ran == path || ran.StartsWith(path, StringComparison.Ordinal), $"the example '{example.CommandLine}' of 'shmkit {path}' runs 'shmkit {ran}'");
            }
        }

        foreach (string path in CliExamples.Paths)
        {
            Assert.True(paths.Contains(path), $"CliExamples has examples for 'shmkit {path}', which is not a visible command");
        }
    }

    [Fact]
    public void Help_Of_Every_Command_Exits_0_And_Shows_Its_Examples()
    {
        var root = ShmKitCommandLine.CreateRoot();
        foreach (var command in Visible(root).Prepend(root))
        {
            string path = CliExamples.PathOf(command);
            using var output = new StringWriter();
            var parseResult = root.Parse([.. path.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"]);
            int code = parseResult.Invoke(new InvocationConfiguration { Output = output, Error = output });
            Assert.True(code == 0, $"shmkit {path} --help exited {code}:\n{output}");
            Assert.Contains("Examples:", output.ToString(), StringComparison.Ordinal);
            foreach (var example in CliExamples.For(command))
            {
                Assert.Contains(example.CommandLine, output.ToString(), StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Help_Works_Where_The_Command_Line_Is_Incomplete()
    {
        // `sem op` needs a key and --delta; --help must still show the help (it once printed a usage error instead).
        string help = Shmkit.Ok("sem", "op", "--help");
        Assert.Contains("Usage:", help, StringComparison.Ordinal);
        Assert.Contains("shmkit sem op 0x5678 --delta -1 --timeout 5s", help, StringComparison.Ordinal);
        Assert.Contains("Examples:", Shmkit.Ok("write", "--help"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("'list'", "lst")]
    [InlineData("'list'", "lsit", "--json")]
    [InlineData("'op'", "sem", "opp")]
    [InlineData("'--json'", "list", "--jsn")]
    [InlineData("'msg'", "mesg")]
    public void A_Typo_Gets_A_Did_You_Mean(string suggestion, params string[] args)
    {
        string error = Shmkit.Run(args).AssertError(ExitCode.Usage);
        Assert.Contains($"Did you mean {suggestion}?", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Required command was not provided", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_Removed_Bench_Command_Says_Where_The_Benchmark_Is()
    {
        foreach (string[] args in new[] { new[] { "bench" }, ["bench", "--quick", "--only", "raw-c"] })
        {
            string error = Shmkit.Run(args).AssertError(ExitCode.Usage);
            Assert.Contains("benchmarks/ShmKit.Bench", error, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("bench", Shmkit.Ok("--help"), StringComparison.Ordinal);
    }

    [Fact]
    public void Version_Prints_The_Version_And_The_Commit()
    {
        string version = Shmkit.Ok("--version").Trim();
        var match = VersionLine().Match(version);
        Assert.True(match.Success, $"unexpected --version output: {version}");
        bool fromGit = Directory.Exists(Path.Combine(Path.GetDirectoryName(ReadmeTests.ReadmePath)!, ".git"))
            || File.Exists(Path.Combine(Path.GetDirectoryName(ReadmeTests.ReadmePath)!, ".git"));
        Assert.Equal(fromGit, match.Groups["commit"].Value.Length == 40);
    }

    [Fact]
    public void The_Suggest_Directive_Lists_Completions_At_The_Cursor()
    {
        Assert.Contains("op", Lines(Shmkit.Ok("[suggest:12]", "shmkit sem o")));
        string[] kinds = Lines(Shmkit.Ok("[suggest:17]", "shmkit rm --kind "));
        Assert.Equal(["msg", "sem", "shm"], kinds.Order(StringComparer.Ordinal));

        // Hidden commands are not offered; DOS-style help aliases are gone.
        string[] top = Lines(Shmkit.Ok("[suggest:7]", "shmkit "));
        Assert.Contains("list", top);
        Assert.DoesNotContain("bench", top);
        Assert.DoesNotContain("man-page", top);
        Assert.DoesNotContain("/?", top);
    }

    [Fact]
    public void The_Bash_Completion_Script_Completes_Through_Shmkit()
    {
        string script = Shmkit.Ok("completion", "bash");

        // What bash does on Tab: COMP_LINE, COMP_POINT, COMP_WORDS and COMP_CWORD set, the function called.
        string driver = $$"""
            shmkit() { "$SHMKIT_DOTNET" "$SHMKIT_CLI" "$@"; }
            {{script}}
            complete_at() {
                COMP_LINE="$1"; COMP_POINT=${#1}
                read -ra COMP_WORDS <<< "$1"
                [[ "$1" == *" " ]] && COMP_WORDS+=("")
                COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
                COMPREPLY=()
                _shmkit_complete
                echo "$1=>${COMPREPLY[*]}"
            }
            complete_at "shmkit sem o"
            complete_at "shmkit msg re"
            complete_at "shmkit rm --kind s"
            complete_at "shmkit list --j"
            """;
        string output = RunShell("bash", ["--norc", "-c", driver]);
        Assert.Contains("shmkit sem o=>op", output, StringComparison.Ordinal);
        Assert.Contains("shmkit msg re=>recv", output, StringComparison.Ordinal);
        Assert.Contains("shmkit rm --kind s=>sem shm", output, StringComparison.Ordinal);
        Assert.Contains("shmkit list --j=>--json", output, StringComparison.Ordinal);
    }

    [EnvironmentFact(Needs.Zsh)]
    public void The_Zsh_Completion_Script_Completes_Through_Shmkit()
    {
        string script = Shmkit.Ok("completion", "zsh");

        // compadd and _files stand in for the completion system: they print what the script hands them.
        string driver = $$"""
            shmkit() { "$SHMKIT_DOTNET" "$SHMKIT_CLI" "$@"; }
            compdef() { :; }
            compadd() { [[ $1 == -a ]] && print -r -- "${(P)2}"; }
            _files() { print _files; }
            {{script}}
            words=(shmkit sem o); CURRENT=3; _shmkit
            words=(shmkit rm --kind ''); CURRENT=4; _shmkit
            words=(shmkit write 0x1 --file ''); CURRENT=5; _shmkit
            """;
        string[] output = Lines(RunShell("zsh", ["-f", "-c", driver]));
        Assert.Contains("op", output[0].Split(' '));
        Assert.Equal("msg sem shm", output[1]);
        Assert.Equal("_files", output[2]);
    }

    [EnvironmentFact(Needs.Fish)]
    public void The_Fish_Completion_Script_Completes_Through_Shmkit()
    {
        string script = Shmkit.Ok("completion", "fish");
        string driver = $$"""
            function shmkit; "$SHMKIT_DOTNET" "$SHMKIT_CLI" $argv; end
            {{script}}
            complete -C 'shmkit sem o'
            echo ---
            complete -C 'shmkit rm --kind s'
            """;
        Assert.Equal(["op", "---", "sem", "shm"], Lines(RunShell("fish", ["--no-config", "-c", driver])));
    }

    [Fact]
    public void Completion_Scripts_Exist_For_Bash_Zsh_And_Fish_And_Nothing_Else()
    {
        Assert.Contains("complete -o default -F _shmkit_complete shmkit", Shmkit.Ok("completion", "bash"), StringComparison.Ordinal);
        Assert.Contains("compdef _shmkit shmkit", Shmkit.Ok("completion", "zsh"), StringComparison.Ordinal);
        Assert.Contains("complete -c shmkit", Shmkit.Ok("completion", "fish"), StringComparison.Ordinal);
        foreach (string shell in CliCompletion.Shells)
        {
            Assert.Contains("[suggest:", CliCompletion.Script(shell), StringComparison.Ordinal);
        }

        Shmkit.Run("completion", "powershell").AssertError(ExitCode.Usage);
    }

    [Fact]
    public void The_Man_Page_In_Docs_Is_The_One_The_Command_Tree_Makes()
    {
        string generated = CliManPage.Render(ShmKitCommandLine.CreateRoot());
        string file = File.Exists(ManPagePath) ? File.ReadAllText(ManPagePath) : string.Empty;
        Assert.True(
            generated == file,
            "docs/shmkit.1 is out of date with the commands: run `dotnet run --project src/ShmKit.Cli -- man-page > docs/shmkit.1` and commit it.");

        // The page covers every visible command, the exit codes and the examples.
        foreach (var command in Visible(ShmKitCommandLine.CreateRoot()))
        {
            Assert.Contains($".SS \"shmkit {CliExamples.PathOf(command)}", generated, StringComparison.Ordinal);
        }

        Assert.Contains(".SH EXIT STATUS", generated, StringComparison.Ordinal);
        Assert.Contains(@".B 130", generated, StringComparison.Ordinal);
        Assert.Contains(@"shmkit sem op 0x5678 \-\-delta \-1 \-\-timeout 5s", generated, StringComparison.Ordinal);
    }

    [EnvironmentFact(Needs.Groff)]
    public void The_Man_Page_Renders_Without_Warnings()
    {
        using var child = ChildProcess.Start("groff", ["-man", "-ww", "-z", ManPagePath]);
        child.StandardInput.Close();
        int code = child.WaitForExit(TimeSpan.FromSeconds(60));
        Assert.True(code == 0 && child.StandardError.Length == 0, $"groff -man -ww: exit {code}\n{child.StandardError}");
    }

    /// <summary>Runs a shell with shmkit's command line in SHMKIT_DOTNET and SHMKIT_CLI; asserts exit code 0, returns stdout.</summary>
    private static string RunShell(string shell, string[] args)
    {
        using var child = ChildProcess.Start(shell, args, new Dictionary<string, string>
        {
            ["SHMKIT_DOTNET"] = ChildProcess.DotnetHost,
            ["SHMKIT_CLI"] = ChildProcess.CliDll,
        });
        child.StandardInput.Close();
        int code = child.WaitForExit(TimeSpan.FromSeconds(60));
        Assert.True(code == 0, $"{shell} exited {code}:\n{child.StandardOutput}\n{child.StandardError}");
        return child.StandardOutput;
    }

    private static IEnumerable<Command> Visible(Command root) =>
        root.Subcommands.Where(c => !c.Hidden).SelectMany(c => Visible(c).Prepend(c));

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [GeneratedRegex(@"shmkit(?: [^<>|)]*)?")]
    private static partial Regex ShmkitPart();

    [GeneratedRegex(@"^shmkit [0-9]+\.[0-9]+\.[0-9]+\S* \((?:commit (?<commit>[0-9a-f]{40})|commit unknown), \.NET [0-9.]+, (?:JIT|native), linux-[a-z0-9]+\)$")]
    private static partial Regex VersionLine();
}
