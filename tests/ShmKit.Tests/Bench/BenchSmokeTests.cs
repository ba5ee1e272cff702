using System.Globalization;
using System.Text.Json;
using ShmKit.Interop;

namespace ShmKit.Tests.Bench;

/// <summary>
/// `shmkit bench` end to end with tiny counts (hidden --smoke): every transport runs between two real processes,
/// every message is verified, the JSON has its documented shape, and nothing is left behind: no segment, semaphore
/// set, queue or peer process, also after SIGTERM in the middle of a run. No timing is asserted.
/// </summary>
public class BenchSmokeTests
{
    private static readonly string[] AllTransports = ["raw-c", "raw-cs", "shm-semaphore", "pipe", "unix-socket", "tcp", "sysv-mq"];
    private static readonly string[] Workloads = ["rtt-64", "tput-64", "tput-4k", "tput-1m"];
    private static readonly string[] ResultKeys = ["transport", "workload", "unit", "min", "median", "max", "p50", "p90", "p99", "p999", "pinned"];

    [Fact]
    public void SmokeRunVerifiesEveryTransportAndWritesTheJsonShape()
    {
        string json = Path.Combine(Path.GetTempPath(), "shmkit-bench-smoke-" + Guid.NewGuid().ToString("N") + ".json");
        var semaphoresBefore = SemaphoreSet.GetAll().Select(s => s.Id).ToHashSet();
        try
        {
            using var cli = ChildProcess.StartCli("bench", "--smoke", "--json", json);
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
            bool haveGcc = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Any(d => File.Exists(Path.Combine(d, "gcc")));
            foreach (string transport in AllTransports.Where(t => haveGcc || t != "raw-c"))
            {
                foreach (string workload in Workloads.Where(w => transport != "sysv-mq" || w != "tput-1m"))
                {
                    Assert.Single(rows, r => r.GetProperty("transport").GetString() == transport && r.GetProperty("workload").GetString() == workload);
                }
            }

            Assert.DoesNotContain(rows, r => r.GetProperty("transport").GetString() == "sysv-mq" && r.GetProperty("workload").GetString() == "tput-1m");
            foreach (var row in rows)
            {
                Assert.Equal(ResultKeys, row.EnumerateObject().Select(p => p.Name));
                string workload = row.GetProperty("workload").GetString()!;
                string expectedUnit = workload switch { "rtt-64" => "us", "tput-64" => "msg/s", _ => "GB/s" };
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
        finally
        {
            File.Delete(json);
        }
    }

    [Fact]
    public void CpuAffinityPinsAndRestoresTheCurrentThread()
    {
        var allowed = CpuAffinity.AllowedCpus;
        Assert.NotEmpty(allowed);
        Assert.Equal(allowed.Order(), allowed);
        // On a thread of its own (affinity is per thread); results are asserted here, not on that thread.
        bool pinned = false, restored = false;
        string? reason = null;
        IReadOnlyList<int> whilePinned = [], afterRestore = [];
        var thread = new Thread(() =>
        {
            pinned = CpuAffinity.TryPinCurrentThread(allowed[^1], out reason);
            whilePinned = CpuAffinity.AllowedCpus;
            restored = CpuAffinity.TrySetCurrentThread(allowed);
            afterRestore = CpuAffinity.AllowedCpus;
        });
        thread.Start();
        thread.Join();
        Assert.True(pinned, reason);
        Assert.Equal([allowed[^1]], whilePinned);
        Assert.True(restored);
        Assert.Equal(allowed, afterRestore);

        Assert.False(CpuAffinity.TryPinCurrentThread(-1, out string? negative));
        Assert.Contains("-1", negative, StringComparison.Ordinal);
        Assert.False(CpuAffinity.TryPinCurrentThread(100_000, out string? huge));
        Assert.NotNull(huge);
        Assert.Equal(allowed, CpuAffinity.AllowedCpus); // the failed calls changed nothing
    }

    [Fact]
    public void SigtermMidRunRemovesEverythingAndStopsThePeer()
    {
        var semaphoresBefore = SemaphoreSet.GetAll().Select(s => s.Id).ToHashSet();
        using var cli = ChildProcess.StartCli("bench", "--quick", "--only", "raw-cs,shm-semaphore,sysv-mq,unix-socket");
        cli.WaitForLine("warm-up: sysv-mq rtt-64", TimeSpan.FromSeconds(30));
        int peer = FindPeer(cli.Id);
        Assert.True(peer > 0, "the peer process was not found");
        Assert.Equal(0, ProcessCalls.kill(cli.Id, ProcessCalls.SIGTERM));
        int exit = cli.WaitForExit(TimeSpan.FromSeconds(20));
        Assert.True(exit == 143, $"exit {exit}\nstdout:\n{cli.StandardOutput}\nstderr:\n{cli.StandardError}");
        AssertNothingLeft(cli.Id, semaphoresBefore);
        Assert.True(WaitGone(peer), "the peer process still runs");
    }

    [Fact]
    public void PeerDeathEndsTheRunWithAnErrorAndCleansUp()
    {
        var semaphoresBefore = SemaphoreSet.GetAll().Select(s => s.Id).ToHashSet();
        using var cli = ChildProcess.StartCli("bench", "--quick", "--only", "raw-cs,shm-semaphore,sysv-mq,pipe");
        cli.WaitForLine("warm-up: pipe rtt-64", TimeSpan.FromSeconds(30));
        int peer = FindPeer(cli.Id);
        Assert.True(peer > 0, "the peer process was not found");
        Assert.Equal(0, ProcessCalls.kill(peer, ProcessCalls.SIGKILL));
        int exit = cli.WaitForExit(TimeSpan.FromSeconds(20));
        Assert.True(exit == 1, $"exit {exit}\nstdout:\n{cli.StandardOutput}\nstderr:\n{cli.StandardError}");
        Assert.Contains("peer", cli.StandardError, StringComparison.Ordinal);
        AssertNothingLeft(cli.Id, semaphoresBefore);
    }

    [Fact]
    public void HostSigkillLeavesNothing()
    {
        var semaphoresBefore = SemaphoreSet.GetAll().Select(s => s.Id).ToHashSet();
        using var cli = ChildProcess.StartCli("bench", "--quick", "--only", "raw-cs,shm-semaphore,sysv-mq,unix-socket");
        cli.WaitForLine("warm-up: sysv-mq rtt-64", TimeSpan.FromSeconds(30));
        int peer = FindPeer(cli.Id);
        Assert.True(peer > 0, "the peer process was not found");
        string? directory = PeerArgument(peer, "dir=");
        Assert.NotNull(directory);
        Assert.True(Directory.Exists(directory));
        Assert.Equal(0, ProcessCalls.kill(cli.Id, ProcessCalls.SIGKILL)); // the host only: no handler runs; the peer notices and removes what outlives both
        cli.WaitForExit(TimeSpan.FromSeconds(10));
        Assert.True(WaitGone(peer), "the peer process still runs");
        AssertNothingLeft(cli.Id, semaphoresBefore);
        Assert.False(Directory.Exists(directory), directory);
    }

    /// <summary>No segment created by the CLI, no queue it used, no new semaphore set it released, remains.</summary>
    private static void AssertNothingLeft(int cliPid, HashSet<int> semaphoresBefore)
    {
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

    /// <summary>The pid of the `bench-peer` process whose parent= argument is <paramref name="parent"/>, or 0.</summary>
    private static int FindPeer(int parent)
    {
        string marker = "parent=" + parent.ToString(CultureInfo.InvariantCulture);
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            try
            {
                string[] args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                if (args.Contains("bench-peer") && args.Contains(marker))
                {
                    return pid;
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return 0;
    }

    private static string? PeerArgument(int pid, string prefix)
    {
        string[] args = File.ReadAllText("/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/cmdline").Split('\0');
        return args.FirstOrDefault(a => a.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..];
    }

    private static bool WaitGone(int pid)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        string stat = "/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/stat";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                string text = File.ReadAllText(stat);
                if (text[(text.LastIndexOf(") ", StringComparison.Ordinal) + 2)..].StartsWith('Z'))
                {
                    return true;
                }
            }
            catch (IOException)
            {
                return true;
            }

            Thread.Sleep(50);
        }

        return false;
    }
}
