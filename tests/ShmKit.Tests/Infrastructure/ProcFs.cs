using System.Globalization;

namespace ShmKit.Tests;

/// <summary>Looking at other processes through /proc: finding a child, its command line, waiting for it to exit.</summary>
internal static class ProcFs
{
    /// <summary>
    /// The first running process for which <paramref name="match"/> is true, or 0. A process that exits while it is
    /// being looked at (or cannot be read) does not match.
    /// </summary>
    internal static int Find(Func<int, bool> match)
    {
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            try
            {
                if (match(pid))
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

    /// <summary>The arguments of <paramref name="pid"/>, program first (/proc/PID/cmdline).</summary>
    internal static string[] CommandLine(int pid) => File.ReadAllText(ProcPath("cmdline", pid)).Split('\0');

    /// <summary>The parent pid of <paramref name="pid"/> (/proc/PID/stat).</summary>
    internal static int ParentOf(int pid) => int.Parse(StatFields(pid)[1], CultureInfo.InvariantCulture);

    /// <summary>Waits up to 10 s for <paramref name="pid"/> to exit (gone, or a zombie nobody has reaped yet).</summary>
    internal static bool WaitGone(int pid)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (StatFields(pid)[0] == "Z")
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

    /// <summary>
    /// SIGKILLs <paramref name="pid"/> if it still runs with <paramref name="argument"/> on its command line (never a
    /// later process that reuses the pid): for a finally block, so that a test whose child failed to exit by itself
    /// leaves no process behind.
    /// </summary>
    internal static void KillIfRunning(int pid, string argument)
    {
        try
        {
            if (pid > 0 && CommandLine(pid).Contains(argument))
            {
                ShmKit.Interop.ProcessCalls.kill(pid, ShmKit.Interop.ProcessCalls.SIGKILL);
                WaitGone(pid);
            }
        }
        catch (IOException)
        {
            // Gone already.
        }
    }

    /// <summary>The fields of /proc/PID/stat after the command name: state, ppid, ...</summary>
    private static string[] StatFields(int pid)
    {
        string stat = File.ReadAllText(ProcPath("stat", pid));
        return stat[(stat.LastIndexOf(") ", StringComparison.Ordinal) + 2)..].Split(' ');
    }

    private static string ProcPath(string file, int pid) => "/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/" + file;
}
