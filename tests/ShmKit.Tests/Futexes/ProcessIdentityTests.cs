using System.Diagnostics;
using System.Globalization;
using System.Text;
using ShmKit.Tests.Segments;

namespace ShmKit.Tests.Futexes;

/// <summary>Process identities (pid, start time, pid namespace) and liveness checks against real processes.</summary>
public class ProcessIdentityTests
{
    /// <summary>Field 22 of a stat line, counted after the last ')' (the test's own parser, for comparison).</summary>
    private static ulong StartTimeOf(string statLine) =>
        ulong.Parse(statLine[(statLine.LastIndexOf(')') + 2)..].Split(' ')[19], CultureInfo.InvariantCulture);

    private static ulong NamespaceInodeOf(string link)
    {
        string target = new FileInfo(link).LinkTarget!;
        return ulong.Parse(target["pid:[".Length..^1], CultureInfo.InvariantCulture);
    }

    private static ProcessIdentity ParseIdentity(string line)
    {
        string[] p = line.Split(' ');
        return new ProcessIdentity(
            int.Parse(p[1], CultureInfo.InvariantCulture),
            ulong.Parse(p[2], CultureInfo.InvariantCulture),
            ulong.Parse(p[3], CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Current_Is_This_Process_Pid_Start_Time_And_Namespace()
    {
        ProcessIdentity me = ProcessIdentity.Current;
        Assert.Equal(Environment.ProcessId, me.ProcessId);
        Assert.Equal(StartTimeOf(File.ReadAllText("/proc/self/stat")), me.StartTime);
        Assert.Equal(NamespaceInodeOf("/proc/self/ns/pid"), me.PidNamespaceInode);
        Assert.True(ProcessIdentity.ProcMatchesPidNamespace);
        Assert.True(me.IsInCurrentPidNamespace);
        Assert.Equal(LivenessState.Alive, ProcessLiveness.Check(me));
    }

    [Fact]
    public void A_Child_Reports_The_Identity_Its_Parent_Reads_From_Proc()
    {
        using var child = ChildProcess.StartChild("identity");
        ProcessIdentity reported = ParseIdentity(child.WaitForLine("IDENTITY"));
        Assert.True(ProcessIdentity.TryGet(child.Id, out ProcessIdentity seen));
        Assert.Equal(seen, reported);
        Assert.Equal(StartTimeOf(File.ReadAllText($"/proc/{child.Id}/stat")), reported.StartTime);
        Assert.Equal(LivenessState.Alive, ProcessLiveness.Check(reported));
        child.StandardInput.Close();
        Assert.Equal(0, child.WaitForExit(FutexTestSupport.Generous));
        Assert.Equal(LivenessState.Dead, ProcessLiveness.Check(reported));
    }

    [Fact]
    public void A_Live_Pid_With_Another_Start_Time_Is_Dead_Pid_Reuse()
    {
        using var child = ChildProcess.Start("sleep", ["30"]);
        Assert.True(ProcessIdentity.TryGet(child.Id, out ProcessIdentity real));
        Assert.Equal(LivenessState.Alive, ProcessLiveness.Check(real));
        Assert.Equal(LivenessState.Dead, ProcessLiveness.Check(real with { StartTime = real.StartTime + 1 }));
        Assert.Equal(LivenessState.Dead, ProcessLiveness.Check(real with { StartTime = real.StartTime - 1 }));
        Assert.Equal(PidfdOpenStatus.Dead, SafePidfdHandle.TryOpen(real with { StartTime = real.StartTime + 1 }, out var none));
        Assert.Null(none);
        Assert.Equal(PidfdOpenStatus.Opened, SafePidfdHandle.TryOpen(real, out var pidfd));
        pidfd!.Dispose();
    }

    [Fact]
    public void A_Pid_Nobody_Has_And_Garbage_Records_Are_Dead()
    {
        var me = ProcessIdentity.Current;
        Assert.Equal(LivenessState.Dead, ProcessLiveness.Check(me with { ProcessId = 0x3FFFFFFF }));
        Assert.Equal(LivenessState.Dead, ProcessLiveness.Check(me with { ProcessId = 0 }));
        Assert.Equal(LivenessState.Dead, ProcessLiveness.Check(me with { ProcessId = -5 }));
        Assert.False(ProcessIdentity.TryGet(0x3FFFFFFF, out _));
    }

    [Fact]
    public void Another_Pid_Namespace_Is_Unknown_Not_Dead()
    {
        var me = ProcessIdentity.Current;
        Assert.Equal(LivenessState.Unknown, ProcessLiveness.Check(me with { PidNamespaceInode = me.PidNamespaceInode + 1 }));
        Assert.Equal(LivenessState.Unknown, ProcessLiveness.Check(me with { PidNamespaceInode = 0 }));
    }

    [Fact]
    public void A_Zombie_Is_Dead()
    {
        // The shell starts a short sleep in the background and becomes `sleep 30` at once; the short sleep exits
        // after the exec, and `sleep 30` never reaps it.
        using var parent = ChildProcess.Start("sh", ["-c", "sleep 0.2 & echo ZOMBIE $!; exec sleep 30"]);
        int zombie = int.Parse(parent.WaitForLine("ZOMBIE").Split(' ')[1], CultureInfo.InvariantCulture);
        FutexTestSupport.WaitUntil(() => ProcStat.TryRead(zombie, out char state, out _) == ProcStatStatus.Ok && state == 'Z', "the child to be a zombie");
        Assert.True(ProcessIdentity.TryGet(zombie, out ProcessIdentity identity));
        Assert.Equal(LivenessState.Dead, ProcessLiveness.Check(identity));
        Assert.Equal(PidfdOpenStatus.Dead, SafePidfdHandle.TryOpen(identity, out _));
    }

    [Fact]
    public void The_Command_Name_May_Contain_Spaces_And_Parentheses()
    {
        Assert.True(ProcStat.Parse("42 (a) b (c) d) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10"u8, out char state, out ulong start));
        Assert.Equal('S', state);
        Assert.Equal(987654UL, start);
        Assert.False(ProcStat.Parse("42 (no closing"u8, out _, out _));
        Assert.False(ProcStat.Parse("42 (x) S 1 2"u8, out _, out _));
        Assert.False(ProcStat.Parse(""u8, out _, out _));
        Assert.False(ProcStat.Parse(Encoding.ASCII.GetBytes("42 (x) S" + string.Concat(Enumerable.Repeat(" 1", 18)) + " notanumber"), out _, out _));

        // A real process whose name has both: a copy of sleep called "x) y (z".
        string dir = Directory.CreateTempSubdirectory("shmkit-comm-").FullName;
        try
        {
            string exe = Path.Combine(dir, "x) y (z");
            File.Copy("/bin/sleep", exe);
            using var child = ChildProcess.Start(exe, ["30"]);
            FutexTestSupport.WaitUntil(() => File.ReadAllText($"/proc/{child.Id}/stat").Contains("(x) y (z)", StringComparison.Ordinal), "the renamed sleep to run");
            Assert.True(ProcessIdentity.TryGet(child.Id, out ProcessIdentity identity));
            Assert.Equal(StartTimeOf(File.ReadAllText($"/proc/{child.Id}/stat")), identity.StartTime);
            Assert.Equal(LivenessState.Alive, ProcessLiveness.Check(identity));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [EnvironmentFact(Needs.Root | Needs.UtilLinux)]
    public void A_Child_In_Another_Pid_Namespace_Has_Its_Own_Pid_And_Namespace()
    {
        using var child = ChildProcess.Start("unshare", ["--pid", "--fork", "--kill-child", ChildProcess.DotnetHost, ChildProcess.TestChildDll, "identity"]);
        string line = child.WaitForLine("IDENTITY");
        ProcessIdentity reported = ParseIdentity(line);
        Assert.Equal(1, reported.ProcessId); // the first process of the new namespace
        Assert.NotEqual(ProcessIdentity.Current.PidNamespaceInode, reported.PidNamespaceInode);
        Assert.EndsWith(" 0", line, StringComparison.Ordinal); // its /proc is still ours, not its namespace's
        Assert.False(reported.IsInCurrentPidNamespace);
        Assert.Equal(LivenessState.Unknown, ProcessLiveness.Check(reported));

        // Seen from here, the same process has another pid but the same start time and namespace.
        int hostPid = int.Parse(File.ReadAllText($"/proc/{child.Id}/task/{child.Id}/children").Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        Assert.Equal(StartTimeOf(File.ReadAllText($"/proc/{hostPid}/stat")), reported.StartTime);
        Assert.Equal(NamespaceInodeOf($"/proc/{hostPid}/ns/pid"), reported.PidNamespaceInode);
        child.StandardInput.Close();
        child.WaitForExit(FutexTestSupport.Generous);
    }
}
