namespace ShmKit.Interop;

/// <summary>pidfd_open(2) (Linux 5.3; linux/pidfd.h): a file descriptor that becomes readable when the process exits.</summary>
internal static partial class PidfdCalls
{
    /// <summary>Returns a new close-on-exec descriptor, or -1 with errno (ESRCH: no such process).</summary>
    internal static int pidfd_open(int pid, uint flags) =>
        (int)Syscalls.syscall(Syscalls.SYS_pidfd_open, pid, (nint)flags, 0, 0, 0, 0);
}
