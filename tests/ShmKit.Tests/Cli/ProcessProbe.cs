using System.Globalization;
using System.Runtime.InteropServices;

namespace ShmKit.Tests.Cli;

/// <summary>
/// What /proc says about a child process: where its threads sleep in the kernel, and how much it has run (CPU ticks
/// and context switches, counters that a busy or polling wait raises and a blocked one does not).
/// </summary>
internal static class ProcessProbe
{
    /// <summary>The msgrcv system call number, for /proc/PID/task/TID/syscall when wchan names no symbol.</summary>
    private static readonly string s_msgrcvSyscall = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "188" : "70";

    /// <summary>True when some thread of <paramref name="processId"/> sleeps in msgrcv (blocked in the kernel, not polling).</summary>
    internal static bool IsBlockedInMsgrcv(int processId)
    {
        foreach (string task in Tasks(processId))
        {
            string wchan = ReadOrEmpty(Path.Combine(task, "wchan"));
            string syscall = ReadOrEmpty(Path.Combine(task, "syscall"));
            if (wchan.Contains("msgrcv", StringComparison.Ordinal) || syscall.StartsWith(s_msgrcvSyscall + " ", StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Waits (up to 30 s, checking every 20 ms) until <paramref name="condition"/> holds; fails the test otherwise.</summary>
    internal static void WaitUntil(Func<bool> condition, string what, ChildProcess child)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.False(child.HasExited, $"the child exited before {what}.\nstdout:\n{child.StandardOutput}\nstderr:\n{child.StandardError}");
            Assert.True(DateTime.UtcNow < deadline, $"not {what} after 30 s.\nstdout:\n{child.StandardOutput}\nstderr:\n{child.StandardError}");
            Thread.Sleep(20);
        }
    }

    /// <summary>User plus system CPU time of the whole process, in clock ticks (fields 14 and 15 of /proc/PID/stat).</summary>
    internal static long CpuTicks(int processId)
    {
        string stat = File.ReadAllText($"/proc/{processId}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state): utime is field 14, stime field 15.
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    /// <summary>Voluntary plus involuntary context switches of all the process's threads: every wake-up counts.</summary>
    internal static long ContextSwitches(int processId)
    {
        long total = 0;
        foreach (string task in Tasks(processId))
        {
            foreach (string line in ReadOrEmpty(Path.Combine(task, "status")).Split('\n'))
            {
                if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                {
                    total += long.Parse(line[(line.IndexOf(':') + 1)..].Trim(), CultureInfo.InvariantCulture);
                }
            }
        }

        return total;
    }

    /// <summary>True when this process ignores SIGINT, which its children then inherit (a background job of a shell).</summary>
    internal static bool IgnoresSigint()
    {
        foreach (string line in File.ReadAllLines("/proc/self/status"))
        {
            if (line.StartsWith("SigIgn:", StringComparison.Ordinal))
            {
                ulong mask = ulong.Parse(line["SigIgn:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                return (mask & (1UL << (2 - 1))) != 0;
            }
        }

        return false;
    }

    /// <summary>Sends <paramref name="signal"/> (a name for kill(1): INT, TERM, KILL) to a process.</summary>
    internal static void Signal(int processId, string signal)
    {
        using var kill = ChildProcess.Start("kill", ["-" + signal, processId.ToString(CultureInfo.InvariantCulture)]);
        Assert.Equal(0, kill.WaitForExit(TimeSpan.FromSeconds(10)));
    }

    private static string[] Tasks(int processId)
    {
        try
        {
            return Directory.GetDirectories($"/proc/{processId}/task");
        }
        catch (IOException)
        {
            return [];
        }
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }
}

/// <summary>A [Fact] skipped (with the reason) when this test process ignores SIGINT, so its children would too.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class SigintFactAttribute : FactAttribute
{
    public SigintFactAttribute()
    {
        if (ProcessProbe.IgnoresSigint())
        {
            Skip = "this test process ignores SIGINT (started in the background by a shell), so a child would not see Ctrl-C";
        }
    }
}
