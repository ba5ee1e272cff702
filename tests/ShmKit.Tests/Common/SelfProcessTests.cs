using System.Globalization;
using ShmKit.Bench;
using ShmKit.Interop;

namespace ShmKit.Tests.Common;

/// <summary>
/// The parent watchdog of src/Common/SelfProcess.cs, in both programs that link it: the benchmark's peer and a demo
/// half. Each child runs under a shell that is its real parent; the test SIGKILLs the shell (no handler, no end of
/// stdin: the child's stdin stays open), and the child must notice, remove what it owns and exit. Both ways of watching
/// run: a pidfd (the default) and PR_SET_PDEATHSIG (SHMKIT_PARENT_WATCH=pdeathsig).
/// </summary>
public class SelfProcessTests
{
    [Theory]
    [InlineData("pidfd")]
    [InlineData("pdeathsig")]
    public void BenchPeerWhoseParentIsKilledRemovesItsObjectsAndExits(string watch)
    {
        using var cleanup = new IpcCleanup();
        var (queue, semaphores) = CreatePeerObjects(cleanup);
        string[] peerArgs = ["peer", "parent=$$", "sysv-mq=" + Id(queue.Id), "shm-semaphore=" + PeerObjects(cleanup, semaphores)];
        using var shell = StartUnderShell(ChildProcess.BenchDll, peerArgs, watch);
        KillShellAndExpectTheChildToExit(shell, "ready", BenchPeerCommand.Verb);
        Assert.Throws<IpcObjectNotFoundException>(() => MessageQueue.OpenById(queue.Id));
        Assert.Throws<IpcObjectNotFoundException>(() => SemaphoreSet.OpenById(semaphores.Id));
        Assert.True(shell.StandardError.Length == 0, shell.StandardError);
    }

    /// <summary>
    /// A parent id that names a live process which is not the parent (what pid reuse produces) counts as gone: the old
    /// watchdog, which polled /proc/PID, watched pid 1 forever and the peer never left.
    /// </summary>
    [Fact]
    public void BenchPeerWhoseParentIdNamesAnotherLiveProcessCountsTheParentAsGone()
    {
        using var cleanup = new IpcCleanup();
        var (queue, _) = CreatePeerObjects(cleanup);
        using var peer = ChildProcess.StartBench(["peer", "parent=1", "sysv-mq=" + Id(queue.Id)]);
        int exit = peer.WaitForExit(TimeSpan.FromSeconds(20)); // its stdin stays open: only the watchdog ends it
        Assert.True(exit == 3, $"exit {exit}\nstdout:\n{peer.StandardOutput}\nstderr:\n{peer.StandardError}");
        Assert.Throws<IpcObjectNotFoundException>(() => MessageQueue.OpenById(queue.Id));
    }

    [Theory]
    [InlineData("pidfd")]
    [InlineData("pdeathsig")]
    public void DemoServerWhoseParentIsKilledRemovesItsObjectsAndExits(string watch)
    {
        using var cleanup = new IpcCleanup();
        string key = cleanup.NewKey().ToString();
        using var shell = StartUnderShell(ChildProcess.CliDll, ["demo", "server", "--key", key, "--records", "100", "--write-time", "200ms", "--timeout", "60s", "--parent-pid", "$$"], watch);
        KillShellAndExpectTheChildToExit(shell, "created segment", "server");
        var ipcKey = new IpcKey(Convert.ToInt32(key, 16));
        Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.Open(ipcKey));
        Assert.Throws<IpcObjectNotFoundException>(() => SemaphoreSet.Open(ipcKey));
    }

    /// <summary>
    /// Waits for <paramref name="readyLine"/>, SIGKILLs the shell and asserts that its child exits by itself. The child
    /// is no longer in the shell's process tree then, so ChildProcess.Dispose cannot reach it: should it stay, it is
    /// killed here (if it still has <paramref name="childArgument"/> on its command line).
    /// </summary>
    private static void KillShellAndExpectTheChildToExit(ChildProcess shell, string readyLine, string childArgument)
    {
        shell.WaitForLine(readyLine);
        int child = ProcFs.Find(pid => ProcFs.ParentOf(pid) == shell.Id);
        Assert.True(child > 0, "the child of the shell was not found");
        try
        {
            Assert.Equal(0, ProcessCalls.kill(shell.Id, ProcessCalls.SIGKILL));
            Assert.True(ProcFs.WaitGone(child), $"the child ({child}) still runs after its parent was killed\nstdout:\n{shell.StandardOutput}\nstderr:\n{shell.StandardError}");
        }
        finally
        {
            ProcFs.KillIfRunning(child, childArgument);
        }
    }

    private static string Id(int id) => id.ToString(CultureInfo.InvariantCulture);

    private static (MessageQueue Queue, SemaphoreSet Semaphores) CreatePeerObjects(IpcCleanup cleanup)
    {
        var queue = MessageQueue.CreatePrivate();
        cleanup.AddId('q', queue.Id);
        var semaphores = SemaphoreSet.CreatePrivate([0, 0, 0, 0]);
        cleanup.AddId('s', semaphores.Id);
        return (queue, semaphores);
    }

    /// <summary>The shm-semaphore setup string: a segment of the transport's size (removed by the test) and the set.</summary>
    private static string PeerObjects(IpcCleanup cleanup, SemaphoreSet semaphores)
    {
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(RawCsTransport.SegmentSize));
        return Id(segment.Id) + "," + Id(semaphores.Id);
    }

    /// <summary>
    /// Runs <c>dotnet DLL ARGS</c> as the child of a shell (<c>$$</c> in an argument becomes the shell's pid), not as a
    /// direct child of the test. The trailing <c>; exit</c> keeps the shell from exec-ing the command, so the shell
    /// stays its parent; stdin and stdout are the test's pipes, and stay open when the shell dies.
    /// </summary>
    private static ChildProcess StartUnderShell(string dll, string[] args, string watch)
    {
        string quoted = string.Join(' ', args.Select(a => a.Contains("$$", StringComparison.Ordinal) ? "\"" + a + "\"" : "'" + a + "'"));
        return ChildProcess.Start("/bin/sh", ["-c", $"'{ChildProcess.DotnetHost}' '{dll}' {quoted}; exit"],
            new Dictionary<string, string> { ["SHMKIT_PARENT_WATCH"] = watch });
    }
}
