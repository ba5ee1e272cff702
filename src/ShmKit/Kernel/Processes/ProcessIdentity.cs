using System.Globalization;

namespace ShmKit;

/// <summary>
/// Who a process is, in a form that survives pid reuse: its pid, its start time (clock ticks after boot, field 22 of
/// /proc/PID/stat) and the inode of the pid namespace that gives the pid its meaning (/proc/self/ns/pid). Two records
/// with the same pid but different start times are different processes. This is what a participant slot stores.
/// </summary>
/// <param name="ProcessId">The pid, as numbered in the namespace <paramref name="PidNamespaceInode"/>.</param>
/// <param name="StartTime">Start time in clock ticks after boot (the same in every namespace view).</param>
/// <param name="PidNamespaceInode">The inode of the pid namespace the pid belongs to (0 = unknown).</param>
internal readonly record struct ProcessIdentity(int ProcessId, ulong StartTime, ulong PidNamespaceInode)
{
    /// <summary>This process: getpid(), its own start time and its own pid namespace. Computed once.</summary>
    internal static ProcessIdentity Current { get; } = ReadCurrent(out s_procMatchesNamespace);

    // True when /proc shows this process's own pid namespace (/proc/self is named with getpid()). After
    // `unshare --pid --fork` without --mount-proc, /proc still belongs to the parent namespace and pids read there
    // mean something else: liveness checks through /proc are then Unknown.
    private static bool s_procMatchesNamespace;

    /// <summary>True when /proc belongs to this process's pid namespace, so /proc/PID can be trusted for its pids.</summary>
    internal static bool ProcMatchesPidNamespace
    {
        get
        {
            _ = Current;
            return s_procMatchesNamespace;
        }
    }

    /// <summary>True when the pid means the same process here as where it was recorded.</summary>
    internal bool IsInCurrentPidNamespace => PidNamespaceInode != 0 && PidNamespaceInode == Current.PidNamespaceInode;

    /// <summary>
    /// The identity of process <paramref name="processId"/> of this pid namespace, read from /proc/PID/stat (false
    /// when it does not exist or /proc is not this namespace's). The namespace is the current one: the pid is a
    /// number of this namespace even when the process lives in a nested one.
    /// </summary>
    internal static bool TryGet(int processId, out ProcessIdentity identity)
    {
        identity = default;
        if (processId <= 0 || !ProcMatchesPidNamespace || ProcStat.TryRead(processId, out _, out ulong start) != ProcStatStatus.Ok)
        {
            return false;
        }

        identity = new ProcessIdentity(processId, start, Current.PidNamespaceInode);
        return true;
    }

    /// <summary>For messages and inspect output: "pid 1234 (started at tick 5678, pid namespace 4026531836)".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"pid {ProcessId} (started at tick {StartTime}, pid namespace {PidNamespaceInode})");

    /// <summary>The inode in a /proc/*/ns/pid link target, "pid:[4026531836]"; 0 when unreadable.</summary>
    internal static ulong ReadNamespaceInode(string link)
    {
        try
        {
            string? target = new FileInfo(link).LinkTarget;
            if (target is not null && target.StartsWith("pid:[", StringComparison.Ordinal) && target.EndsWith(']')
                && ulong.TryParse(target.AsSpan(5, target.Length - 6), NumberStyles.None, CultureInfo.InvariantCulture, out ulong inode))
            {
                return inode;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return 0;
    }

    private static ProcessIdentity ReadCurrent(out bool procMatchesNamespace)
    {
        int pid = Environment.ProcessId;
        procMatchesNamespace = false;
        try
        {
            procMatchesNamespace = new FileInfo("/proc/self").LinkTarget == pid.ToString(CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        // /proc/self is this process in whatever namespace /proc belongs to; the start time is the same in every view.
        ulong start = ProcStat.TryRead(0, out _, out ulong s) == ProcStatStatus.Ok ? s : 0;
        return new ProcessIdentity(pid, start, ReadNamespaceInode("/proc/self/ns/pid"));
    }
}
