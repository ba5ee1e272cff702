using System.Globalization;
using System.Text.RegularExpressions;

namespace ShmKit.Tests.Cli;

/// <summary>
/// The demo's edges: combinations of --records and --updates, one clock for both halves' transcripts, and a server
/// that finds the objects of a crashed (or running) predecessor under its key.
/// </summary>
public partial class DemoSafetyTests
{
    [Theory]
    [InlineData("3", "5")]
    [InlineData("6", "5")]
    [InlineData("3", "2")]
    [InlineData("2", "1")]
    public void Records_Too_Few_For_The_Updates_Are_A_Usage_Error_At_Once(string records, string updates)
    {
        string error = Shmkit.Run("demo", "--records", records, "--updates", updates, "--write-time", "0ms").AssertError(ExitCode.Usage);
        Assert.Contains("--records", error, StringComparison.Ordinal);
        Assert.Contains("--updates", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("7", "5")] // the boundary: records - 2 middle records, exactly the updates
    [InlineData("3", "1")]
    [InlineData("2", "0")]
    [InlineData("1", "0")]
    public void The_Smallest_Valid_Tables_Pass(string records, string updates)
    {
        var (code, stdout, stderr) = ChildProcess.RunCli(["demo", "--records", records, "--updates", updates, "--write-time", "0ms", "--timeout", "20s"]);
        Assert.True(code == 0, $"demo --records {records} --updates {updates} failed ({code}):\n{stdout}\n{stderr}");
        Assert.Contains($"exactly the {updates} logged records changed", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_Client_Asking_More_Updates_Than_The_Table_Has_Middle_Records_Fails_Before_Updating()
    {
        using var cleanup = new IpcCleanup();
        string key = cleanup.NewKey().ToString();
        using var server = ChildProcess.StartCli("demo", "server", "--key", key, "--records", "4", "--write-time", "0ms", "--timeout", "20s");
        server.WaitForLine("opened the ready gate");
        var client = Shmkit.Run("demo", "client", "--key", key, "--updates", "3", "--timeout", "10s");
        Assert.Equal(ExitCode.Usage, client.ExitCode);
        Assert.Contains("--updates 3", client.Stderr, StringComparison.Ordinal);
        server.Kill();
    }

    [Fact]
    public void Both_Halves_Stamp_Their_Lines_With_One_Clock()
    {
        var (code, stdout, stderr) = ChildProcess.RunCli(["demo", "--records", "200", "--updates", "2", "--write-time", "300ms"]);
        Assert.True(code == 0, $"demo failed ({code}):\n{stdout}\n{stderr}");
        double gateOpened = Stamp(stdout, "[server]", "opened the ready gate");
        double clientPassed = Stamp(stdout, "[client]", "gate opened after", "the gate was already open");
        double serverCreated = Stamp(stdout, "[server]", "created segment");
        Assert.True(clientPassed >= gateOpened, $"the client passed the gate at {clientPassed} ms, before the server opened it at {gateOpened} ms:\n{stdout}");
        Assert.True(gateOpened >= serverCreated, stdout);
    }

    [Fact]
    public void A_Stale_Server_Is_Reported_With_One_Command_That_Removes_Everything_It_Left()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        string k = key.ToString();
        using (var crashed = ChildProcess.StartCli("demo", "server", "--key", k, "--records", "10", "--write-time", "0ms", "--timeout", "60s"))
        {
            crashed.WaitForLine("waiting up to");
            ProcessProbe.Signal(crashed.Id, "KILL");
            crashed.WaitForExit(TimeSpan.FromSeconds(20));
        }

        var again = Shmkit.Run("demo", "server", "--key", k, "--records", "10", "--timeout", "1s");
        Assert.Equal(ExitCode.Exists, again.ExitCode);
        Assert.Contains($"shmkit demo server --key {k} --replace", again.Stderr, StringComparison.Ordinal);
        Assert.Contains($"shmkit rm {k}", again.Stderr, StringComparison.Ordinal);

        // Following the advice leaves nothing with the key.
        Shmkit.Ok("rm", k);
        Assert.DoesNotContain(SharedMemorySegment.GetAll(), s => s.Key == key);
        Assert.DoesNotContain(SemaphoreSet.GetAll(), s => s.Key == key);
    }

    [Fact]
    public void Replace_Removes_What_A_Crashed_Server_Left_But_Never_A_Running_Servers_Objects()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        string k = key.ToString();
        using var running = ChildProcess.StartCli("demo", "server", "--key", k, "--records", "10", "--write-time", "0ms", "--timeout", "60s");
        running.WaitForLine("waiting up to");
        int segmentId = SharedMemorySegment.Open(key).Id;

        foreach (string[] args in new[] { new[] { "demo", "server", "--key", k, "--timeout", "1s" }, ["demo", "server", "--key", k, "--timeout", "1s", "--replace"] })
        {
            var result = Shmkit.Run(args);
            Assert.Equal(ExitCode.Exists, result.ExitCode);
            Assert.Contains("running", result.Stderr, StringComparison.Ordinal);
            Assert.Contains(running.Id.ToString(CultureInfo.InvariantCulture), result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("shmkit rm", result.Stderr, StringComparison.Ordinal);
            Assert.Equal(segmentId, SharedMemorySegment.Open(key).Id);
        }

        ProcessProbe.Signal(running.Id, "KILL");
        running.WaitForExit(TimeSpan.FromSeconds(20));

        // Now it is stale: --replace takes its place and, when done, leaves nothing.
        var replaced = Shmkit.Run("demo", "server", "--key", k, "--records", "10", "--write-time", "0ms", "--timeout", "300ms", "--replace");
        Assert.Contains("removed", replaced.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(SharedMemorySegment.GetAll(), s => s.Key == key);
        Assert.DoesNotContain(SemaphoreSet.GetAll(), s => s.Key == key);
    }

    /// <summary>The milliseconds stamped on the first line of <paramref name="half"/> that contains one of <paramref name="texts"/>.</summary>
    private static double Stamp(string transcript, string half, params string[] texts)
    {
        string line = transcript.Split('\n').First(l => l.StartsWith(half, StringComparison.Ordinal) && texts.Any(t => l.Contains(t, StringComparison.Ordinal)));
        var match = StampPattern().Match(line);
        Assert.True(match.Success, line);
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^\[\w+\]\s+([0-9.]+) ms")]
    private static partial Regex StampPattern();
}
