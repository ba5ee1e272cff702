using System.Runtime.InteropServices;

namespace ShmKit.Tests;

/// <summary>
/// The few native calls only the tests need (the product has no use for them, so they are not in ShmKit.Interop):
/// who this process runs as, and sending a signal to one thread to interrupt a blocked system call with EINTR.
/// </summary>
internal static partial class TestInterop
{
    [LibraryImport("libc", EntryPoint = "geteuid")]
    internal static partial uint geteuid();

    [LibraryImport("libc", EntryPoint = "getegid")]
    internal static partial uint getegid();

    /// <summary>gettid(2): the calling thread's kernel id.</summary>
    [LibraryImport("libc", EntryPoint = "gettid")]
    internal static partial int gettid();

    /// <summary>tgkill(2): sends a signal to one thread of a process.</summary>
    [LibraryImport("libc", EntryPoint = "tgkill", SetLastError = true)]
    internal static partial int tgkill(int tgid, int tid, int sig);
}
