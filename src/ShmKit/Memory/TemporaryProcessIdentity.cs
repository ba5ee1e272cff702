using System.Globalization;

namespace ShmKit;

/// <summary>
/// TEMPORARY seam (issue 8, branch h6-managed): who a process is, in a form that survives pid reuse, and whether a
/// recorded process still lives. At merge the lead replaces it with helper h5's Kernel/Processes
/// (<c>ProcessIdentity</c>, <c>ProcessLiveness.Check</c>) and deletes this file.
/// </summary>
/// <param name="ProcessId">The pid as the process itself sees it (getpid, in its own pid namespace).</param>
/// <param name="StartTime">Field 22 of /proc/PID/stat: start time in clock ticks since boot.</param>
/// <param name="PidNamespaceInode">The inode of /proc/self/ns/pid: which pid namespace <paramref name="ProcessId"/> belongs to.</param>
internal readonly record struct TemporaryProcessIdentity(int ProcessId, long StartTime, long PidNamespaceInode)
{
    private static readonly Lazy<(TemporaryProcessIdentity Identity, bool ProcUsable)> s_current = new(ReadCurrent);

    /// <summary>This process, computed once.</summary>
    internal static TemporaryProcessIdentity Current => s_current.Value.Identity;

    /// <summary>
    /// True when the /proc mounted here belongs to this process's own pid namespace (its /proc/self/stat shows our
    /// getpid). It does not after <c>unshare --pid --fork</c> without <c>--mount-proc</c>: then /proc/PID names
    /// processes of another namespace and must not be used to judge peers.
    /// </summary>
    internal static bool ProcUsable => s_current.Value.ProcUsable;

    /// <summary>
    /// Whether the process recorded as (<paramref name="pid"/>, <paramref name="startTime"/>, <paramref name="pidNamespaceInode"/>)
    /// still lives, judged from /proc: Dead when /proc/PID is missing, its start time differs (the pid was reused) or it
    /// is a zombie; Unknown when the record is from another pid namespace (its pid means nothing here) or /proc cannot tell.
    /// </summary>
    internal static ShmParticipantLiveness Check(int pid, long startTime, long pidNamespaceInode)
    {
        if (pid <= 0)
        {
            return ShmParticipantLiveness.Dead;
        }

        TemporaryProcessIdentity self = Current;
        if (pidNamespaceInode != self.PidNamespaceInode || !ProcUsable)
        {
            return ShmParticipantLiveness.Unknown;
        }

        if (pid == self.ProcessId)
        {
            return startTime == self.StartTime ? ShmParticipantLiveness.Alive : ShmParticipantLiveness.Dead;
        }

        string text;
        try
        {
            text = File.ReadAllText(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/stat"));
        }
        catch (FileNotFoundException)
        {
            return ShmParticipantLiveness.Dead;
        }
        catch (DirectoryNotFoundException)
        {
            return ShmParticipantLiveness.Dead;
        }
        catch (IOException)
        {
            // ESRCH while reading: the process went away between open and read.
            return ShmParticipantLiveness.Dead;
        }
        catch (UnauthorizedAccessException)
        {
            return ShmParticipantLiveness.Unknown;
        }

        if (!TryParseStat(text, out char state, out long start))
        {
            return ShmParticipantLiveness.Unknown;
        }

        return start != startTime || state is 'Z' or 'X' or 'x'
            ? ShmParticipantLiveness.Dead
            : ShmParticipantLiveness.Alive;
    }

    /// <summary>
    /// Parses /proc/PID/stat: the command (field 2) is in parentheses and may contain spaces and ')', so the fields
    /// are counted from the LAST ')'. After it come field 3 (state) ... field 22 (starttime).
    /// </summary>
    internal static bool TryParseStat(ReadOnlySpan<char> text, out char state, out long startTime)
    {
        state = '\0';
        startTime = 0;
        int close = text.LastIndexOf(')');
        if (close < 0)
        {
            return false;
        }

        ReadOnlySpan<char> rest = text[(close + 1)..];
        int field = 2;
        foreach (Range r in rest.Split(' '))
        {
            ReadOnlySpan<char> token = rest[r];
            if (token.IsEmpty)
            {
                continue;
            }

            field++;
            if (field == 3)
            {
                state = token[0];
            }
            else if (field == 22)
            {
                return long.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out startTime);
            }
        }

        return false;
    }

    private static (TemporaryProcessIdentity, bool) ReadCurrent()
    {
        int pid = Environment.ProcessId;
        string stat = File.ReadAllText("/proc/self/stat");
        if (!TryParseStat(stat, out _, out long start))
        {
            throw new InvalidOperationException("/proc/self/stat has no start time field; is /proc mounted?");
        }

        // /proc/self/stat field 1 is our pid as the mounted /proc's namespace sees it.
        int space = stat.IndexOf(' ', StringComparison.Ordinal);
        bool procUsable = space > 0 && int.TryParse(stat.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out int procPid) && procPid == pid;
        return (new TemporaryProcessIdentity(pid, start, ReadNamespaceInode("/proc/self/ns/pid")), procUsable);
    }

    /// <summary>The inode number in a namespace link's target, "pid:[4026531836]".</summary>
    private static long ReadNamespaceInode(string link)
    {
        string? target = new FileInfo(link).LinkTarget;
        int open = target?.IndexOf('[', StringComparison.Ordinal) ?? -1;
        int close = target?.IndexOf(']', StringComparison.Ordinal) ?? -1;
        if (target is null || open < 0 || close <= open
            || !long.TryParse(target.AsSpan(open + 1, close - open - 1), NumberStyles.None, CultureInfo.InvariantCulture, out long inode))
        {
            throw new InvalidOperationException($"cannot read the pid namespace from {link} (target '{target}').");
        }

        return inode;
    }
}
