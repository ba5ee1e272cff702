using System.Globalization;
using System.Text;
using ShmKit.Cli.Commands;

namespace ShmKit.Cli.Demo;

/// <summary>
/// What a demo server finds under its key before it creates its table: nothing; a server that is running; the
/// segment and semaphore set that a server which is gone (crashed, killed with SIGKILL) left behind; or another
/// program's objects. Only the third may be removed, and only when asked (<c>--replace</c>); the message for each
/// case says what to do, with the key, in one command.
/// </summary>
internal static class DemoPredecessor
{
    /// <summary>
    /// Checks the key. With <paramref name="replace"/>, removes what a server that is gone left behind (and says so
    /// in the log); otherwise such objects, like a running server's and another program's, are an error.
    /// </summary>
    /// <returns>The error to report, or null when the key is free (now).</returns>
    internal static CliException? Check(IpcKey key, bool replace, DemoLog log)
    {
        var segment = TryOpen(() => SharedMemorySegment.Open(key));
        var set = TryOpen(() => SemSets.Open(new IpcTarget(key.ToString(), null)));
        if (segment is null && set is null)
        {
            return null;
        }

        var (serverPid, isTable) = Inspect(segment);
        string k = key.ToString();
        if (serverPid is int pid && IsRunningDemoServer(pid))
        {
            return new CliException(string.Create(CultureInfo.InvariantCulture,
                $"a demo server (pid {pid}) is running with key {k}: stop it first (Ctrl-C in its terminal, or kill {pid}), or give this server another --key."), CliErrors.Exists);
        }

        if ((segment is not null && !isTable) || (segment is null && set!.Count != 2))
        {
            return new CliException(
                $"key {k} is in use by another program (its objects are not a demo table, or this user cannot read them): give the server another --key. `shmkit list --all` shows what exists.", CliErrors.Exists);
        }

        string what = string.Join(" and ", new[]
        {
            segment is null ? null : string.Create(CultureInfo.InvariantCulture, $"segment id {segment.Id}"),
            set is null ? null : string.Create(CultureInfo.InvariantCulture, $"semaphore set id {set.Id}"),
        }.OfType<string>());
        string gone = serverPid is int p ? string.Create(CultureInfo.InvariantCulture, $" (pid {p})") : string.Empty;
        if (!replace)
        {
            return new CliException(
                $"a demo server that is gone{gone} left its {what} with key {k}. `shmkit demo server --key {k} --replace` removes them and starts a new server; `shmkit rm {k}` only removes them.", CliErrors.Exists);
        }

        SharedMemoryRendezvous.Remove(key);
        log.Say($"removed stale objects with key {k} ({what}), left by a server that is gone{gone}");
        return null;
    }

    /// <summary>The pid of the server that made the segment (from its demo header, else the creator pid) and whether it holds a demo table.</summary>
    private static (int? ServerPid, bool IsTable) Inspect(SharedMemorySegment? segment)
    {
        if (segment is null)
        {
            return (null, false);
        }

        int? pid = null;
        try
        {
            pid = segment.Stat().CreatorProcessId;
        }
        catch (Exception e) when (e is IpcException or IpcAccessDeniedException)
        {
        }

        try
        {
            using var view = segment.AttachReadOnly();
            if (view.Length < DemoTable.RecordsOffset || view.Read<ulong>(DemoTable.HeaderOffset) != DemoTable.Magic)
            {
                return (pid, false);
            }

            int server = view.Read<DemoHeader>(DemoTable.HeaderOffset).ServerProcessId;
            return (server > 0 ? server : pid, true);
        }
        catch (Exception e) when (e is IpcException or IpcAccessDeniedException)
        {
            return (pid, false);
        }
    }

    /// <summary>
    /// True while <paramref name="pid"/> runs (not a zombie) and is a demo server (its command line has "demo server"):
    /// a pid reused by an unrelated process after the server died does not count. A process this user may not
    /// inspect counts as running: never advise removing what might be a live server's.
    /// </summary>
    private static bool IsRunningDemoServer(int pid)
    {
        string proc = "/proc/" + pid.ToString(CultureInfo.InvariantCulture);
        try
        {
            string stat = File.ReadAllText(proc + "/stat");
            int end = stat.LastIndexOf(") ", StringComparison.Ordinal);
            if (end >= 0 && end + 2 < stat.Length && stat[end + 2] is 'Z' or 'X')
            {
                return false;
            }

            byte[] cmdline = File.ReadAllBytes(proc + "/cmdline");
            return Encoding.UTF8.GetString(cmdline).Contains("demo\0server\0", StringComparison.Ordinal);
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static T? TryOpen<T>(Func<T> open)
        where T : class
    {
        try
        {
            return open();
        }
        catch (IpcObjectNotFoundException)
        {
            return null;
        }
    }
}
