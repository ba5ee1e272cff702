using System.Runtime.InteropServices;

namespace ShmKit.Interop;

/// <summary>
/// syscall(2), glibc's trampoline for system calls it has no wrapper for (futex, futex_waitv, pidfd_open), and the
/// architecture's call numbers, chosen at run time (x86-64 has its own table; arm64 uses asm-generic/unistd.h).
/// </summary>
/// <remarks>
/// The fixed six-argument declaration is ABI-correct for the variadic C function on both targets: glibc's syscall is
/// assembly that only moves registers (sysdeps/unix/sysv/linux/x86_64/syscall.S, aarch64/syscall.S), and Linux
/// arm64 passes variadic integer arguments in the same registers as fixed ones. Unused arguments are 0.
/// </remarks>
internal static unsafe partial class Syscalls
{
    // x86-64 (arch/x86/entry/syscalls/syscall_64.tbl); checked against sys/syscall.h in the tests.
    internal const long SYS_futex_x64 = 202;
    internal const long SYS_pidfd_open_x64 = 434;
    internal const long SYS_futex_waitv_x64 = 449;

    // arm64 (include/uapi/asm-generic/unistd.h).
    internal const long SYS_futex_arm64 = 98;
    internal const long SYS_pidfd_open_arm64 = 434;
    internal const long SYS_futex_waitv_arm64 = 449;

    /// <summary>futex(2) on this architecture, or -1 where ShmKit does not know the number.</summary>
    internal static readonly long SYS_futex = ForArchitecture(SYS_futex_x64, SYS_futex_arm64);

    /// <summary>futex_waitv(2) (Linux 5.16), or -1.</summary>
    internal static readonly long SYS_futex_waitv = ForArchitecture(SYS_futex_waitv_x64, SYS_futex_waitv_arm64);

    /// <summary>pidfd_open(2) (Linux 5.3), or -1.</summary>
    internal static readonly long SYS_pidfd_open = ForArchitecture(SYS_pidfd_open_x64, SYS_pidfd_open_arm64);

    /// <summary>True on the architectures whose call numbers are known (x86-64, arm64).</summary>
    internal static bool IsSupportedArchitecture => SYS_futex >= 0;

    /// <summary>Returns the call's result, or -1 with errno set (read it with <see cref="Errno.Last"/>).</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "syscall", SetLastError = true)]
    internal static partial long syscall(long number, nint arg1, nint arg2, nint arg3, nint arg4, nint arg5, nint arg6);

    private static long ForArchitecture(long x64, long arm64) => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => x64,
        Architecture.Arm64 => arm64,
        _ => -1,
    };
}
