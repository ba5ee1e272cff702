namespace ShmKit.Tests.Cli;

/// <summary>`shmkit demo`, the README's main command, and its halves run by hand, as real processes.</summary>
public class DemoCliTests
{
    [Fact]
    public void Demo_Passes_And_Leaves_Nothing_Behind()
    {
        var (code, stdout, stderr) = ChildProcess.RunCli(["demo", "--records", "300", "--updates", "4", "--write-time", "200ms"]);
        Assert.True(code == 0, $"demo failed ({code}):\n{stdout}\n{stderr}");
        Assert.Contains("PASS", stdout, StringComparison.Ordinal);
        Assert.Contains("verified all 300 records", stdout, StringComparison.Ordinal);
        Assert.Contains("exactly the 4 logged records changed", stdout, StringComparison.Ordinal);

        // Nothing with the demo's key (printed on its first line) is left; other tests' objects come and go meanwhile.
        string key = System.Text.RegularExpressions.Regex.Match(stdout, @"\(key (0x[0-9a-f]{8})\)").Groups[1].Value;
        Assert.NotEqual(string.Empty, key);
        Assert.DoesNotContain(Snapshot(), id => id.EndsWith(":" + key, StringComparison.Ordinal));
    }

    [Fact]
    public void Halves_By_Hand_Share_The_Table_Under_A_Chosen_Key()
    {
        using var cleanup = new IpcCleanup();
        string key = cleanup.NewKey().ToString();
        using var server = ChildProcess.StartCli("demo", "server", "--key", key, "--records", "100", "--write-time", "300ms", "--timeout", "30s");
        server.WaitForLine("created segment");
        using var client = ChildProcess.StartCli("demo", "client", "--key", key, "--updates", "3", "--timeout", "30s");
        int clientCode = client.WaitForExit(TimeSpan.FromSeconds(60));
        int serverCode = server.WaitForExit(TimeSpan.FromSeconds(60));
        string transcript = $"client ({clientCode}):\n{client.StandardOutput}{client.StandardError}\nserver ({serverCode}):\n{server.StandardOutput}{server.StandardError}";
        Assert.True(clientCode == 0 && serverCode == 0, transcript);
        // Whether the client had to wait depends on how fast it started; either way it read the whole table.
        Assert.Contains("verified all 100 records", client.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("exactly the 3 logged records changed", server.StandardOutput, StringComparison.Ordinal);
        Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.Open(new IpcKey(Convert.ToInt32(key, 16))));
    }

    [Fact]
    public void Client_Rejects_A_Segment_That_Holds_Another_Programs_Data()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var segment = SharedMemorySegment.CreateNew(key, 4096);
        using (var view = segment.Attach())
        {
            view.FillAll(0xAB);
        }

        var set = SemaphoreSet.CreateNew(key, [1, 1]);
        cleanup.AddId('s', set.Id);
        var (code, stdout, stderr) = ChildProcess.RunCli(["demo", "client", "--key", key.ToString(), "--timeout", "5s"]);
        Assert.Equal(1, code);
        Assert.Contains("does not hold a demo table", stdout + stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        using var unchanged = segment.AttachReadOnly();
        Assert.Equal(0xABABABABu, unchanged.Read<uint>(0));
    }

    [Fact]
    public void Client_Without_Server_Times_Out_With_One_Clear_Line()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var (code, stdout, stderr) = ChildProcess.RunCli(["demo", "client", "--key", key.ToString(), "--timeout", "300ms"]);
        Assert.Equal(ExitCode.Timeout, code);
        Assert.Contains("Is the server running", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>Every object on the host as "kind id:key".</summary>
    private static HashSet<string> Snapshot()
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        ids.UnionWith(SharedMemorySegment.GetAll().Select(s => $"m{s.Id}:{s.Key}"));
        ids.UnionWith(SemaphoreSet.GetAll().Select(s => $"s{s.Id}:{s.Key}"));
        ids.UnionWith(MessageQueue.GetAll().Select(s => $"q{s.Id}:{s.Key}"));
        return ids;
    }
}
