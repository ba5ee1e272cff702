using System.Globalization;
using System.Runtime.Versioning;
using System.Text.Json;
using ShmKit.Tests.Segments;

namespace ShmKit.Tests.Cli;

/// <summary>
/// One kind of failure, one exit code, in every command; hints that name shmkit commands the user can run; no
/// library parameter names in the CLI's words.
/// </summary>
[SupportedOSPlatform("linux")]
public class ExitCodeAndHintTests
{
    [Fact]
    public void Not_Found_Is_3_Everywhere()
    {
        using var cleanup = new IpcCleanup();
        string missing = cleanup.NewKey().ToString();
        foreach (string[] args in new[]
        {
            new[] { "info", missing }, ["read", missing], ["dump", missing], ["write", missing, "--text", "x"], ["rm", missing],
            ["sem", "info", missing], ["sem", "op", missing, "--delta", "1"], ["sem", "rm", missing],
            ["msg", "info", missing], ["msg", "send", missing, "--text", "x"], ["msg", "recv", missing, "--nowait"], ["msg", "rm", missing],
            ["chmod", "0600", missing], ["info", "/nonexistent/shmkit-test:1"],
        })
        {
            string error = Shmkit.Run(args).AssertError(ExitCode.NotFound);
            Assert.DoesNotContain("ipcs", error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Exists_Is_5_And_Says_How_To_Remove_It_By_Key()
    {
        using var cleanup = new IpcCleanup();
        string key = cleanup.NewKey().ToString();
        Shmkit.Ok("create", "--size", "4K", "--key", key);
        Shmkit.Ok("sem", "create", "--count", "1", "--key", key);
        Shmkit.Ok("msg", "create", "--key", key);
        foreach (string[] args in new[]
        {
            new[] { "create", "--size", "4K", "--key", key, "--exclusive" },
            ["sem", "create", "--count", "1", "--key", key, "--exclusive"],
            ["msg", "create", "--key", key, "--exclusive"],
        })
        {
            string error = Shmkit.Run(args).AssertError(ExitCode.Exists);
            Assert.Contains($"shmkit rm {key}", error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Timeouts_And_Nowait_Are_6_Everywhere()
    {
        using var cleanup = new IpcCleanup();
        var set = SemaphoreSet.CreatePrivate([0]);
        cleanup.AddId('s', set.Id);
        var queue = MessageQueue.CreatePrivate();
        cleanup.AddId('q', queue.Id);
        string s = set.Id.ToString(CultureInfo.InvariantCulture);
        string q = queue.Id.ToString(CultureInfo.InvariantCulture);
        Shmkit.Run("sem", "op", "--id", s, "--delta", "-1", "--nowait").AssertError(ExitCode.Timeout);
        Shmkit.Run("sem", "op", "--id", s, "--delta", "-1", "--timeout", "200ms").AssertError(ExitCode.Timeout);
        Shmkit.Run("msg", "recv", "--id", q, "--nowait").AssertError(ExitCode.Timeout);
        Shmkit.Run("msg", "recv", "--id", q, "--timeout", "200ms").AssertError(ExitCode.Timeout);
    }

    [Fact]
    public void Too_Large_Is_7_For_Payloads_Values_And_Messages()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        var set = SemaphoreSet.CreatePrivate([32767]);
        cleanup.AddId('s', set.Id);
        var queue = MessageQueue.CreatePrivate();
        cleanup.AddId('q', queue.Id);
        string m = segment.Id.ToString(CultureInfo.InvariantCulture);
        string s = set.Id.ToString(CultureInfo.InvariantCulture);
        string q = queue.Id.ToString(CultureInfo.InvariantCulture);
        int msgmax = MessageQueue.GetLimits().MaxMessageSize;

        Assert.Contains("4 bytes", Shmkit.Run("write", "--id", m, "--offset", "4092", "--text", "12345").AssertError(ExitCode.TooLarge), StringComparison.Ordinal);
        Assert.Contains("msgmax", Shmkit.Run("msg", "send", "--id", q, "--hex", new string('a', 2 * (msgmax + 1))).AssertError(ExitCode.TooLarge), StringComparison.Ordinal);

        // ERANGE: the value would pass 32767. The CLI's words, not the library's ("pass undo: false").
        string erange = Shmkit.Run("sem", "op", "--id", s, "--delta", "1").AssertError(ExitCode.TooLarge);
        Assert.Contains("32767", erange, StringComparison.Ordinal);
        Assert.DoesNotContain("undo:", erange, StringComparison.Ordinal);

        queue.Send(1, "abcdef"u8);
        string e2big = Shmkit.Run("msg", "recv", "--id", q, "--max-bytes", "3").AssertError(ExitCode.TooLarge);
        Assert.Contains("--truncate", e2big, StringComparison.Ordinal);
        Assert.DoesNotContain("MessageReceiveOptions", e2big, StringComparison.Ordinal);
        Assert.Equal(1, queue.Stat().MessageCount);
    }

    [Theory]
    [InlineData("sem", "op", "--id", "0", "--delta", "40000")]
    [InlineData("sem", "op", "--id", "0", "--delta", "1", "--index", "99999999999")]
    [InlineData("msg", "recv", "--id", "0", "--type", "99999999999999999999")]
    [InlineData("demo", "--records", "x")]
    public void Out_Of_Range_Numbers_Are_Usage_Errors_In_The_Clis_Words(params string[] args)
    {
        string error = Shmkit.Run(args).AssertError(ExitCode.Usage);
        Assert.DoesNotContain("System.", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Int16", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Int32", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_Failure_Of_Each_Kind_Keeps_Its_Code_In_Rm_With_Several_Arguments()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var segment = cleanup.Add(SharedMemorySegment.CreateNew(key, 4096));
        var result = Shmkit.Run("rm", key.ToString(), cleanup.NewKey().ToString());
        Assert.Equal(ExitCode.NotFound, result.ExitCode);
        Assert.Contains($"removed shared memory segment id {segment.Id}", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_Documents_The_Exit_Codes()
    {
        string help = Shmkit.Ok("--help");
        foreach (string line in new[] { "0 ", "2 ", "3 ", "4 ", "5 ", "6 ", "7 ", "8 ", "130", "143" })
        {
            Assert.Contains(line, help, StringComparison.Ordinal);
        }

        Assert.Contains("Exit codes", help, StringComparison.Ordinal);
    }

    [EnvironmentFact(Needs.OvercommitHeuristic)]
    public void A_Size_The_Kernel_Cannot_Reserve_Is_8_And_Names_The_Option_That_Skips_The_Reservation()
    {
        // 1 TiB is beyond memory + swap here, so the heuristic overcommit check refuses it (ENOMEM).
        string error = Shmkit.Run("create", "--size", "1TiB").AssertError(ExitCode.Limit);
        Assert.Contains("--no-reserve", error, StringComparison.Ordinal);
        Assert.DoesNotContain("SharedMemoryCreateOptions", error, StringComparison.Ordinal);
    }

    [EnvironmentFact(Needs.Root | Needs.UtilLinux)]
    public void Permission_Denied_Is_4_And_Suggests_List_Which_Works_For_Anyone()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        cleanup.Add(SharedMemorySegment.CreateNew(key, 4096)); // 0600, owned by root
        var set = SemaphoreSet.CreateNew(key, [0]);
        cleanup.AddId('s', set.Id);

        foreach (string[] args in new[] { new[] { "info", key.ToString() }, ["read", key.ToString()], ["sem", "info", key.ToString()] })
        {
            var result = AsNobody.Run(args);
            string error = result.AssertError(ExitCode.Denied);
            Assert.Contains("shmkit list", error, StringComparison.Ordinal);
            Assert.DoesNotContain("shmkit info", error, StringComparison.Ordinal);
            Assert.DoesNotContain("shmkit sem info", error, StringComparison.Ordinal);
        }

        // The suggestion works for that user.
        string list = AsNobody.Run("list", "--all", "--json").AssertSuccess();
        var root = JsonDocument.Parse(list).RootElement;
        Assert.Contains(root.GetProperty("sharedMemory").EnumerateArray(), e => e.GetProperty("key").GetString() == key.ToString());
    }
}

/// <summary>Runs the CLI as uid/gid 65534 (nobody), without supplementary groups.</summary>
[SupportedOSPlatform("linux")]
internal static class AsNobody
{
    private static readonly Lazy<string> s_directory = new(ReadableDirectory);

    internal static CliResult Run(params string[] args)
    {
        using var child = ChildProcess.Start(
            "setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", ChildProcess.DotnetHost, Path.Combine(s_directory.Value, "ShmKit.Cli.dll"), .. args],
            new Dictionary<string, string> { ["HOME"] = "/tmp", ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" });
        child.StandardInput.Close();
        int code = child.WaitForExit(TimeSpan.FromSeconds(60));
        return new CliResult(args, code, child.StandardOutput, child.StandardError);
    }

    /// <summary>The test output directory if uid 65534 can read it; otherwise a 0755 copy of its assemblies (left for the OS to clean).</summary>
    private static string ReadableDirectory()
    {
        string directory = AppContext.BaseDirectory.TrimEnd('/');
        bool readable = (File.GetUnixFileMode(Path.Combine(directory, "ShmKit.Cli.dll")) & UnixFileMode.OtherRead) != 0;
        for (var d = new DirectoryInfo(directory); readable && d is not null; d = d.Parent)
        {
            readable = (d.UnixFileMode & UnixFileMode.OtherExecute) != 0;
        }

        if (readable)
        {
            return directory;
        }

        string copy = Directory.CreateTempSubdirectory("shmkit-nobody-").FullName;
        File.SetUnixFileMode(copy, (UnixFileMode)0x1ED);
        foreach (string file in Directory.EnumerateFiles(directory).Where(f => f.EndsWith(".dll", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal)))
        {
            string target = Path.Combine(copy, Path.GetFileName(file));
            File.Copy(file, target);
            File.SetUnixFileMode(target, (UnixFileMode)0x1A4);
        }

        return copy;
    }
}
