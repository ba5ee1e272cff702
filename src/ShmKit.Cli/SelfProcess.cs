using System.Diagnostics;
using System.Globalization;

namespace ShmKit.Cli;

/// <summary>
/// Starting this very program again as a second OS process (the demo's halves, the benchmark's peer), and the
/// watchdog that makes such a child exit when its parent is gone, so a killed parent leaves no process behind.
/// </summary>
internal static class SelfProcess
{
    /// <summary>
    /// A start-info that runs shmkit with <paramref name="args"/>: the apphost when run as <c>dotnet run</c> or as
    /// an installed tool, or <c>dotnet ShmKit.Cli.dll</c> when this process is the dotnet host.
    /// </summary>
    internal static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find this executable to start a second process.");
        var info = new ProcessStartInfo
        {
            FileName = self,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            info.ArgumentList.Add(typeof(SelfProcess).Assembly.Location);
        }

        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    /// <summary>
    /// Calls <paramref name="onParentGone"/> (once, on a background thread) when process <paramref name="parentId"/>
    /// has exited; polls every 200 ms. Does nothing for a parent id of 0 (run by hand).
    /// </summary>
    internal static void WatchParent(int parentId, Action onParentGone)
    {
        if (parentId <= 0)
        {
            return;
        }

        var thread = new Thread(() =>
        {
            while (IsAlive(parentId))
            {
                Thread.Sleep(200);
            }

            onParentGone();
        })
        {
            IsBackground = true,
            Name = "parent watchdog",
        };
        thread.Start();
    }

    /// <summary>
    /// True while process <paramref name="processId"/> runs: its /proc entry exists and it is not a zombie (a killed
    /// parent stays a zombie until its own parent reaps it, which a test runner may do late).
    /// </summary>
    internal static bool IsAlive(int processId)
    {
        try
        {
            string stat = File.ReadAllText("/proc/" + processId.ToString(CultureInfo.InvariantCulture) + "/stat");
            int end = stat.LastIndexOf(") ", StringComparison.Ordinal);
            return end < 0 || end + 2 >= stat.Length || stat[end + 2] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
    }

    /// <summary>Kills <paramref name="process"/> and its children if it still runs; never throws.</summary>
    internal static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }
}
