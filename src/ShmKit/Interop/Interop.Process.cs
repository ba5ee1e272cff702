using System.Runtime.InteropServices;

namespace ShmKit.Interop;

/// <summary>Process-level calls: identity and signals (unistd.h, signal.h).</summary>
internal static unsafe partial class ProcessCalls
{
    internal const int SIGKILL = 9;
    internal const int SIGUSR1 = 10;
    internal const int SIGUSR2 = 12;
    internal const int SIGTERM = 15;

    [LibraryImport(Libraries.Libc, EntryPoint = "getuid")]
    internal static partial uint getuid();

    [LibraryImport(Libraries.Libc, EntryPoint = "geteuid")]
    internal static partial uint geteuid();

    [LibraryImport(Libraries.Libc, EntryPoint = "getgid")]
    internal static partial uint getgid();

    [LibraryImport(Libraries.Libc, EntryPoint = "getegid")]
    internal static partial uint getegid();

    [LibraryImport(Libraries.Libc, EntryPoint = "kill", SetLastError = true)]
    internal static partial int kill(int pid, int sig);

    /// <summary>gettid(2): the calling thread's kernel id.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "gettid")]
    internal static partial int gettid();

    /// <summary>tgkill(2): sends a signal to one thread of a process (used to interrupt a blocked call with EINTR).</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "tgkill", SetLastError = true)]
    internal static partial int tgkill(int tgid, int tid, int sig);

    [LibraryImport(Libraries.Libc, EntryPoint = "getpagesize")]
    internal static partial int getpagesize();
}
