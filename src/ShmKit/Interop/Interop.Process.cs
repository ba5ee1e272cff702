using System.Runtime.InteropServices;

namespace ShmKit.Interop;

/// <summary>Process-level calls: signals and CPU affinity (signal.h, sched.h).</summary>
internal static unsafe partial class ProcessCalls
{
    internal const int SIGKILL = 9;
    internal const int SIGUSR1 = 10;
    internal const int SIGUSR2 = 12;
    internal const int SIGTERM = 15;

    [LibraryImport(Libraries.Libc, EntryPoint = "kill", SetLastError = true)]
    internal static partial int kill(int pid, int sig);

    /// <summary>sched_setaffinity(2) for the calling thread when <paramref name="pid"/> is 0.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "sched_setaffinity", SetLastError = true)]
    internal static partial int sched_setaffinity(int pid, nuint cpusetsize, ulong* mask);

    [LibraryImport(Libraries.Libc, EntryPoint = "sched_getaffinity", SetLastError = true)]
    internal static partial int sched_getaffinity(int pid, nuint cpusetsize, ulong* mask);
}
