using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using ShmKit.Common.Interop;

namespace ShmKit.Common;

/// <summary>
/// Starting this very program again as a second OS process (the demo's halves in shmkit, the benchmark's peer in
/// ShmKit.Bench: one source file compiled into both), and the watchdog that makes such a child stop when its parent is
/// gone, so a killed parent leaves neither a process nor an IPC object behind.
/// </summary>
/// <remarks>
/// <para><b>How the parent watchdog works.</b> The child gets its parent's pid on its command line and, at start-up:</para>
/// <list type="number">
/// <item>opens a pidfd for it (<c>pidfd_open</c>, Linux 5.3+), then checks <c>getppid()</c> against it. A pidfd names
/// one process, never a later one that reuses its pid; the check closes the race with a parent that died (and whose pid
/// may have been reused) before the pidfd was opened: once the parent has exited this process has been adopted by
/// another (init or a subreaper), so <c>getppid()</c> no longer returns the expected pid.</item>
/// <item>blocks a background thread in <c>poll</c> on the pidfd, which becomes readable when the parent exits (already
/// as a zombie, before anyone reaps it). Waiting costs no CPU and there is no polling interval.</item>
/// </list>
/// <para>Where <c>pidfd_open</c> is refused (a kernel before 5.3, a seccomp filter), the child asks for
/// <c>PR_SET_PDEATHSIG</c> = SIGTERM instead, handles SIGTERM (<see cref="PosixSignalRegistration"/>) and re-checks
/// <c>getppid()</c> right after the <c>prctl</c>, for a parent that died before it. That signal comes when the parent
/// <em>thread</em> that started the child ends, so parents start children from their main thread (both do), and any
/// SIGTERM then also counts as "parent gone", which for these children means the same: clean up and stop. Setting
/// <c>SHMKIT_PARENT_WATCH=pdeathsig</c> chooses this way on any kernel (the tests run both).</para>
/// <para>The old watchdog polled <c>/proc/PID</c> every 200 ms, which another process reusing the pid could fool.</para>
/// </remarks>
internal static class SelfProcess
{
    /// <summary>The environment variable that chooses the PR_SET_PDEATHSIG watchdog (value <c>pdeathsig</c>).</summary>
    internal const string WatchVariable = "SHMKIT_PARENT_WATCH";

    /// <summary>
    /// A start-info that runs this program with <paramref name="args"/>: the apphost when run as <c>dotnet run</c> or as
    /// an installed tool, or <c>dotnet Program.dll</c> when this process is the dotnet host.
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
            // The dotnet host runs us as `dotnet Program.dll`: the first argument is then the dll's path. (Not
            // Assembly.Location, which a single-file or native build leaves empty: IL3000.)
            info.ArgumentList.Add(Environment.GetCommandLineArgs()[0]);
        }

        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    /// <summary>
    /// Calls <paramref name="onParentGone"/> (once, on a background thread) when process <paramref name="parentId"/>,
    /// which must be this process's parent, has exited; at once if it is not (any more) the parent. Does nothing for a
    /// parent id of 0 or less (run by hand). Call it once, early, from the child.
    /// </summary>
    internal static void WatchParent(int parentId, Action onParentGone)
    {
        if (parentId <= 0)
        {
            return;
        }

        SafeFileHandle? pidfd = Environment.GetEnvironmentVariable(WatchVariable) == "pdeathsig" ? null : OpenPidfd(parentId);
        var thread = new Thread(() =>
        {
            bool gone = pidfd is null ? WaitForDeathSignal(parentId) : WaitForExit(pidfd, parentId);
            if (gone)
            {
                onParentGone();
            }
        })
        {
            IsBackground = true,
            Name = "parent watchdog",
        };
        thread.Start();
    }

    /// <summary>
    /// True while process <paramref name="parentId"/> is still this process's parent (or for 0 and less: none was
    /// given). Exact and free of pid reuse: an orphan is adopted at once, so <c>getppid()</c> changes when the parent exits.
    /// </summary>
    internal static bool ParentAlive(int parentId) => parentId <= 0 || ParentWatchCalls.getppid() == parentId;

    /// <summary>Kills <paramref name="process"/> and its children if it still runs, waiting up to 5 s; never throws.</summary>
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

    /// <summary>
    /// A pidfd for the parent, or null where pidfd_open fails (the caller falls back to the death signal). ESRCH, a
    /// parent that is gone already, fails too: the fallback's <c>getppid()</c> check then reports it at once.
    /// </summary>
    private static SafeFileHandle? OpenPidfd(int parentId)
    {
        nint fd = ParentWatchCalls.syscall(ParentWatchCalls.SYS_pidfd_open, parentId, 0);
        return fd >= 0 ? new SafeFileHandle(fd, ownsHandle: true) : null;
    }

    /// <summary>Blocks until the parent exits. Returns false only if it cannot watch at all.</summary>
    private static unsafe bool WaitForExit(SafeFileHandle pidfd, int parentId)
    {
        using (pidfd)
        {
            if (!ParentAlive(parentId))
            {
                return true; // exited before the pidfd was opened: the pidfd may even name another process
            }

            var entry = new ParentWatchCalls.pollfd { fd = (int)pidfd.DangerousGetHandle(), events = ParentWatchCalls.POLLIN };
            while (true)
            {
                int ready = ParentWatchCalls.poll(&entry, 1, -1); // no timeout: one blocking call, no CPU while waiting
                if (ready > 0)
                {
                    return true; // POLLIN: the parent has exited (POLLERR/POLLHUP cannot mean that it lives either)
                }

                if (ready < 0 && Marshal.GetLastPInvokeError() != ParentWatchCalls.EINTR)
                {
                    break; // poll itself failed (ENOMEM): watch with the death signal from now on
                }
            }
        }

        return WaitForDeathSignal(parentId);
    }

    /// <summary>The fallback: PR_SET_PDEATHSIG = SIGTERM, handled here. Returns false only if prctl fails.</summary>
    private static bool WaitForDeathSignal(int parentId)
    {
        using var signalled = new ManualResetEventSlim();
        using var registration = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true; // no default termination: the watchdog's action cleans up and ends the process
            signalled.Set();
        });
        if (ParentWatchCalls.prctl(ParentWatchCalls.PR_SET_PDEATHSIG, ParentWatchCalls.SIGTERM, 0, 0, 0) != 0)
        {
            return false;
        }

        if (ParentAlive(parentId))
        {
            signalled.Wait(); // blocks; set by the signal (the parent's death, or a SIGTERM sent to this process)
        }

        return true;
    }
}
