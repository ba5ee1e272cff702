using System.Globalization;
using System.Text.Json;
using ShmKit.Bench;
using ShmKit.Interop;

namespace ShmKit.Tests.Bench;

/// <summary>
/// The benchmark harness (benchmarks/ShmKit.Bench, run as ShmKit.Bench.dll) end to end with tiny counts (hidden
/// --smoke): every transport runs between two real processes, every message is verified, every lock-2p counter is
/// exact, the JSON has its documented shape, stderr says nothing unexpected, and nothing is left behind: no segment,
/// semaphore set, queue or peer process, also after SIGTERM in the middle of a run. No timing is asserted.
/// </summary>
public class BenchSmokeTests
{
    private static readonly string[] AllTransports = ["raw-c", "raw-cs", "shm-semaphore", "pipe", "unix-socket", "tcp", "sysv-mq"];
    private static readonly string[] Workloads = ["rtt-64", "tput-64", "tput-4k", "tput-1m", "lock-2p"];
    private static readonly string[] LockTransports = ["raw-c", "shm-semaphore"];
    private static readonly string[] ResultKeys = ["transport", "workload", "unit", "min", "median", "max", "p50", "p90", "p99", "p999", "pinned"];

    private static bool HaveGcc => (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Any(d => File.Exists(Path.Combine(d, "gcc")));

    /// <summary>Whether the bench has a row for this transport and workload (sysv-mq has no tput-1m; lock-2p needs a lock).</summary>
    private static bool Carries(string transport, string workload) => workload switch
    {
        "lock-2p" => LockTransports.Contains(transport),
        "tput-1m" => transport != "sysv-mq",
        _ => true,
    };

    [Fact]
    public void SmokeRunVerifiesEveryTransportAndWritesTheJsonShape()
    {
        string json = Path.Combine(Path.GetTempPath(), "shmkit-bench-smoke-" + Guid.NewGuid().ToString("N") + ".json");
        var semaphoresBefore = SemaphoreSet.GetAll().Select(s => s.Id).ToHashSet();
        try
        {
            using var cli = ChildProcess.StartBench(["--smoke", "--json", json]);
            int exit = cli.WaitForExit(TimeSpan.FromSeconds(60));
            Assert.True(exit == 0, $"exit {exit}\nstdout:\n{cli.StandardOutput}\nstderr:\n{cli.StandardError}");
            Assert.Contains("verified", cli.StandardOutput, StringComparison.Ordinal);
            // A clean run says nothing on stderr: a cleanup step that fails (or reports a normal case as a failure)
            // shows up here.
            Assert.True(cli.StandardError.Length == 0, "stderr of a clean run:\n" + cli.StandardError);
            AssertNothingLeft(cli.Id, semaphoresBefore);

            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            var root = doc.RootElement;
            Assert.Equal(["machine", "results"], root.EnumerateObject().Select(p => p.Name));
            var machine = root.GetProperty("machine");
            Assert.Equal(Environment.ProcessorCount, machine.GetProperty("cpus").GetInt32());
            Assert.False(string.IsNullOrEmpty(machine.GetProperty("os").GetString()));
            Assert.False(string.IsNullOrEmpty(machine.GetProperty("runtime").GetString()));

            var rows = root.GetProperty("results").EnumerateArray().ToList();
            foreach (string transport in AllTransports.Where(t => HaveGcc || t != "raw-c"))
            {
                foreach (string workload in Workloads.Where(w => Carries(transport, w)))
                {
                    Assert.Single(rows, r => r.GetProperty("transport").GetString() == transport && r.GetProperty("workload").GetString() == workload);
                }
            }

            Assert.All(rows, r => Assert.True(Carries(r.GetProperty("transport").GetString()!, r.GetProperty("workload").GetString()!), $"unexpected row {r}"));
            Assert.Contains("every lock-2p counter came out exact", cli.StandardOutput, StringComparison.Ordinal);
            AssertRowShapes(rows);
        }
        finally
        {
            File.Delete(json);
        }
    }

    /// <summary>
    /// --only with a workload name runs just that workload, on every transport that carries it: lock-2p on raw-c (the
    /// robust pthread mutex) and shm-semaphore (the SEM_UNDO lock), each counter exact, stderr clean, nothing left.
    /// </summary>
    [Fact]
    public void SmokeRunOfLock2POnlyRunsTheLockRows()
    {
        string json = Path.Combine(Path.GetTempPath(), "shmkit-bench-smoke-" + Guid.NewGuid().ToString("N") + ".json");
        var semaphoresBefore = SemaphoreSet.GetAll().Select(s => s.Id).ToHashSet();
        try
        {
            using var cli = ChildProcess.StartBench(["--smoke", "--only", "lock-2p", "--json", json]);
            int exit = cli.WaitForExit(TimeSpan.FromSeconds(60));
            Assert.True(exit == 0, $"exit {exit}\nstdout:\n{cli.StandardOutput}\nstderr:\n{cli.StandardError}");
            Assert.True(cli.StandardError.Length == 0, "stderr of a clean run:\n" + cli.StandardError);
            Assert.Contains("every lock-2p counter came out exact", cli.StandardOutput, StringComparison.Ordinal);
            Assert.Contains("split ", cli.StandardOutput, StringComparison.Ordinal);
            AssertNothingLeft(cli.Id, semaphoresBefore);

            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            var rows = doc.RootElement.GetProperty("results").EnumerateArray().ToList();
            Assert.Equal(
                LockTransports.Where(t => HaveGcc || t != "raw-c").Select(t => (t, "lock-2p")),
                rows.Select(r => (r.GetProperty("transport").GetString()!, r.GetProperty("workload").GetString()!)));
            AssertRowShapes(rows);
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Fact]
    public void UnknownOnlyNameIsAUsageError()
    {
        using var cli = ChildProcess.StartBench(["--smoke", "--only", "raw-c,lock-3p"]);
        int exit = cli.WaitForExit(TimeSpan.FromSeconds(30));
        Assert.Equal(2, exit);
        AssertStderrIsOnly(cli.StandardError, "shmkit-bench: unknown transport or workload 'lock-3p'. Transports: raw-c, ");
        Assert.Contains("workloads: rtt-64, tput-64, tput-4k, tput-1m, lock-2p.", cli.StandardError, StringComparison.Ordinal);
    }

    /// <summary>SIGTERM while the lock-2p rounds run (the host often blocked in the SEM_UNDO lock's semop).</summary>
    [Fact]
    public void SigtermDuringLock2PRemovesEverythingAndStopsThePeer()
    {
        var semaphoresBefore = SemaphoreSet.GetAll().Select(s => s.Id).ToHashSet();
        using var cli = ChildProcess.StartBench(["--quick", "--only", "shm-semaphore,lock-2p"]);
        cli.WaitForLine("warm-up: shm-semaphore lock-2p", TimeSpan.FromSeconds(30));
        int peer = FindPeer(cli.Id);
        Assert.True(peer > 0, "the peer process was not found");
        Assert.Equal(0, ProcessCalls.kill(cli.Id, ProcessCalls.SIGTERM));
        int exit = cli.WaitForExit(TimeSpan.FromSeconds(20));
        Assert.True(exit == 143, $"exit {exit}\nstdout:\n{cli.StandardOutput}\nstderr:\n{cli.StandardError}");
        AssertStderrIsOnly(cli.StandardError, "shmkit-bench: aborted: SIGTERM; everything it created has been removed.");
        AssertNothingLeft(cli.Id, semaphoresBefore);
        Assert.True(ProcFs.WaitGone(peer), "the peer process still runs");
    }

    /// <summary>Every row has the documented keys, unit, ordered min/median/max and percentiles for rtt-64 only.</summary>
    private static void AssertRowShapes(List<JsonElement> rows)
    {
        foreach (var row in rows)
        {
            Assert.Equal(ResultKeys, row.EnumerateObject().Select(p => p.Name));
            string workload = row.GetProperty("workload").GetString()!;
            string expectedUnit = workload switch { "rtt-64" => "us", "tput-64" => "msg/s", "lock-2p" => "ops/s", _ => "GB/s" };
            Assert.Equal(expectedUnit, row.GetProperty("unit").GetString());
            double min = row.GetProperty("min").GetDouble();
            double median = row.GetProperty("median").GetDouble();
            double max = row.GetProperty("max").GetDouble();
            Assert.True(min > 0 && min <= median && median <= max, $"{row}");
            Assert.True(row.GetProperty("pinned").ValueKind is JsonValueKind.True or JsonValueKind.False);
            foreach (string p in new[] { "p50", "p90", "p99", "p999" })
            {
                var value = row.GetProperty(p);
                if (workload == "rtt-64")
                {
                    Assert.True(value.GetDouble() > 0, $"{p} of {row}");
                }
                else
                {
                    Assert.Equal(JsonValueKind.Null, value.ValueKind);
                }
            }
        }
    }

    [Fact]
    public void SigtermMidRunRemovesEverythingAndStopsThePeer()
    {
        var semaphoresBefore = SemaphoreSet.GetAll().Select(s => s.Id).ToHashSet();
        using var cli = ChildProcess.StartBench(["--quick", "--only", "raw-cs,shm-semaphore,sysv-mq,unix-socket"]);
        cli.WaitForLine("warm-up: sysv-mq rtt-64", TimeSpan.FromSeconds(30));
        int peer = FindPeer(cli.Id);
        Assert.True(peer > 0, "the peer process was not found");
        Assert.Equal(0, ProcessCalls.kill(cli.Id, ProcessCalls.SIGTERM));
        int exit = cli.WaitForExit(TimeSpan.FromSeconds(20));
        Assert.True(exit == 143, $"exit {exit}\nstdout:\n{cli.StandardOutput}\nstderr:\n{cli.StandardError}");
        AssertStderrIsOnly(cli.StandardError, "shmkit-bench: aborted: SIGTERM; everything it created has been removed.");
        AssertNothingLeft(cli.Id, semaphoresBefore);
        Assert.True(ProcFs.WaitGone(peer), "the peer process still runs");
    }

    [Fact]
    public void PeerDeathEndsTheRunWithAnErrorAndCleansUp()
    {
        var semaphoresBefore = SemaphoreSet.GetAll().Select(s => s.Id).ToHashSet();
        using var cli = ChildProcess.StartBench(["--quick", "--only", "raw-cs,shm-semaphore,sysv-mq,pipe"]);
        cli.WaitForLine("warm-up: pipe rtt-64", TimeSpan.FromSeconds(30));
        int peer = FindPeer(cli.Id);
        Assert.True(peer > 0, "the peer process was not found");
        Assert.Equal(0, ProcessCalls.kill(peer, ProcessCalls.SIGKILL));
        int exit = cli.WaitForExit(TimeSpan.FromSeconds(20));
        Assert.True(exit == 1, $"exit {exit}\nstdout:\n{cli.StandardOutput}\nstderr:\n{cli.StandardError}");
        // One line, which names the peer's death (the round it broke may add its own words), and no cleanup failure.
        AssertStderrIsOnly(cli.StandardError, "shmkit-bench: aborted: the peer process exited with code 137");
        AssertNothingLeft(cli.Id, semaphoresBefore);
    }

    /// <summary>
    /// SIGKILL of the host in the middle of a run: the peer's parent watchdog (a pidfd; or PR_SET_PDEATHSIG, chosen
    /// with SHMKIT_PARENT_WATCH) sees it, removes what outlives both processes and exits.
    /// </summary>
    [Theory]
    [InlineData("pidfd")]
    [InlineData("pdeathsig")]
    public void HostSigkillLeavesNothing(string watch)
    {
        using var cleanup = new IpcCleanup();
        var semaphoresBefore = SemaphoreSet.GetAll().Select(s => s.Id).ToHashSet();
        using var cli = ChildProcess.StartBench(
            ["--quick", "--only", "raw-cs,shm-semaphore,sysv-mq,unix-socket"],
            new Dictionary<string, string> { ["SHMKIT_PARENT_WATCH"] = watch });
        cli.WaitForLine("warm-up: sysv-mq rtt-64", TimeSpan.FromSeconds(30));
        int peer = FindPeer(cli.Id);
        Assert.True(peer > 0, "the peer process was not found");
        string? directory = PeerArgument(peer, "dir=");
        try
        {
            RemoveAtTheEnd(peer, cleanup); // should the peer fail to remove them, the test does (and fails)
            Assert.Contains("SHMKIT_PARENT_WATCH=" + watch, File.ReadAllText("/proc/" + peer.ToString(CultureInfo.InvariantCulture) + "/environ").Split('\0'));
            Assert.NotNull(directory);
            Assert.True(Directory.Exists(directory));
            Assert.Equal(0, ProcessCalls.kill(cli.Id, ProcessCalls.SIGKILL)); // the host only: no handler runs; the peer notices and removes what outlives both
            cli.WaitForExit(TimeSpan.FromSeconds(10));
            Assert.True(ProcFs.WaitGone(peer), "the peer process still runs");
            AssertNothingLeft(cli.Id, semaphoresBefore);
            Assert.False(Directory.Exists(directory), directory);
        }
        finally
        {
            ProcFs.KillIfRunning(peer, BenchPeerCommand.Verb);
            if (directory is not null && Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    /// <summary>Registers the kernel objects named on the peer's command line (TRANSPORT=ID[,ID]) for removal.</summary>
    private static void RemoveAtTheEnd(int peer, IpcCleanup cleanup)
    {
        foreach (var (transport, kinds) in new[] { ("raw-cs=", "m"), ("shm-semaphore=", "ms"), ("sysv-mq=", "q") })
        {
            string[] ids = PeerArgument(peer, transport)?.Split(',') ?? [];
            for (int i = 0; i < ids.Length && i < kinds.Length; i++)
            {
                cleanup.AddId(kinds[i], int.Parse(ids[i], CultureInfo.InvariantCulture));
            }
        }
    }

    /// <summary>No segment created by the CLI, no queue it used, no new semaphore set it released, remains.</summary>
    private static void AssertNothingLeft(int cliPid, HashSet<int> semaphoresBefore)
    {
        // A segment already marked for removal vanishes when its last attacher's address space is torn down, which
        // can lag behind /proc showing the process as gone (a zombie leader whose other threads are still exiting):
        // wait a bounded time for that, never for a segment that is not marked.
        for (int i = 0; i < 100 && SharedMemorySegment.GetAll().Any(s => s.CreatorProcessId == cliPid && s.IsMarkedForRemoval); i++)
        {
            Thread.Sleep(100);
        }

        Assert.DoesNotContain(SharedMemorySegment.GetAll(), s => s.CreatorProcessId == cliPid);
        Assert.DoesNotContain(MessageQueue.GetAll(), q => q.LastSendProcessId == cliPid || q.LastReceiveProcessId == cliPid);
        foreach (var set in SemaphoreSet.GetAll().Where(s => !semaphoresBefore.Contains(s.Id)))
        {
            try
            {
                var opened = SemaphoreSet.OpenById(set.Id);
                Assert.DoesNotContain(Enumerable.Range(0, opened.Count), i => opened.GetLastProcessId(i) == cliPid);
            }
            catch (IpcException)
            {
                // Removed meanwhile (another test process): not ours.
            }
        }
    }

    /// <summary>
    /// Fails unless every line of <paramref name="stderr"/> starts with one of <paramref name="expected"/> and each of
    /// them is there: an unexpected line (a cleanup that failed, an exception) is a bug even when the exit code is right.
    /// </summary>
    private static void AssertStderrIsOnly(string stderr, params string[] expected)
    {
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(
            lines.All(l => expected.Any(e => l.StartsWith(e, StringComparison.Ordinal))) && expected.All(e => lines.Any(l => l.StartsWith(e, StringComparison.Ordinal))),
            $"stderr should be only: {string.Join(" | ", expected)}\nstderr:\n{stderr}");
    }

    /// <summary>The pid of the benchmark's `peer` process whose parent= argument is <paramref name="parent"/>, or 0.</summary>
    private static int FindPeer(int parent)
    {
        string marker = "parent=" + parent.ToString(CultureInfo.InvariantCulture);
        return ProcFs.Find(pid => ProcFs.CommandLine(pid) is var args && args.Contains("peer") && args.Contains(marker));
    }

    private static string? PeerArgument(int pid, string prefix) =>
        ProcFs.CommandLine(pid).FirstOrDefault(a => a.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..];
}
