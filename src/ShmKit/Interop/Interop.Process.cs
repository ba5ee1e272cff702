using System.Runtime.InteropServices;

namespace ShmKit.Interop;

/// <summary>Process-level calls: signals (signal.h).</summary>
internal static unsafe partial class ProcessCalls
{
    internal const int SIGKILL = 9;
    internal const int SIGUSR1 = 10;
    internal const int SIGUSR2 = 12;
    internal const int SIGTERM = 15;

    [LibraryImport(Libraries.Libc, EntryPoint = "kill", SetLastError = true)]
    internal static partial int kill(int pid, int sig);
}
