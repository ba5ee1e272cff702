using System.Runtime.InteropServices;

namespace ShmKit.Common.Interop;

/// <summary>
/// The calls behind <see cref="SelfProcess.WatchParent"/>: getppid(2), pidfd_open(2) + poll(2), prctl(2)
/// PR_SET_PDEATHSIG. Declarations and constants only (x86-64 and arm64 share every number here).
/// </summary>
internal static unsafe partial class ParentWatchCalls
{
    private const string Libc = "libc";

    /// <summary>prctl option: the signal this process gets when its parent (the thread that forked it) dies.</summary>
    internal const int PR_SET_PDEATHSIG = 1;

    internal const int SIGTERM = 15;

    internal const int EINTR = 4;

    /// <summary>poll(2) event: a pidfd becomes readable when its process has exited.</summary>
    internal const short POLLIN = 0x1;

    /// <summary>The pidfd_open system call number: 434 on every architecture (the unified table since Linux 5.1).</summary>
    internal const nint SYS_pidfd_open = 434;

    /// <summary>getppid(2): the parent's pid; after the parent exits, the pid of the process that adopted this one.</summary>
    [LibraryImport(Libc, EntryPoint = "getppid")]
    internal static partial int getppid();

    /// <summary>prctl(2) with its four optional arguments (unused ones 0).</summary>
    [LibraryImport(Libc, EntryPoint = "prctl", SetLastError = true)]
    internal static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    /// <summary>
    /// syscall(2) for pidfd_open(pid, flags), which glibc wraps only from 2.36 on: returns a file descriptor for the
    /// process, or -1 (ENOSYS before Linux 5.3, or under a seccomp filter that refuses it; ESRCH when it is gone).
    /// </summary>
    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true)]
    internal static partial nint syscall(nint number, nint pid, nint flags);

    /// <summary><c>struct pollfd</c> (poll.h, 8 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct pollfd
    {
        public int fd;
        public short events;
        public short revents;
    }

    /// <summary>poll(2) on <paramref name="nfds"/> entries; a <paramref name="timeout"/> of -1 waits without end.</summary>
    [LibraryImport(Libc, EntryPoint = "poll", SetLastError = true)]
    internal static partial int poll(pollfd* fds, nuint nfds, int timeout);
}
