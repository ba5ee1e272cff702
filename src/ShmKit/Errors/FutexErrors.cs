using System.Globalization;
using ShmKit.Interop;

namespace ShmKit;

/// <summary>
/// errno → exception for the futex, pidfd and epoll calls of the synchronization layer. EINTR, EAGAIN and ETIMEDOUT
/// never reach it (they are results), nor does EFAULT on a wake (ignored: the waker may have detached already).
/// </summary>
internal static class FutexErrors
{
    /// <summary>futex or futex_waitv failed while waiting on <paramref name="address"/>.</summary>
    internal static Exception ForWait(int errno, nint address, string operation) => errno switch
    {
        Errno.EINVAL => new ArgumentException(string.Create(CultureInfo.InvariantCulture,
            $"{operation} failed on the word at 0x{address:x}: invalid argument (EINVAL). A futex word must be 4-byte aligned, and the deadline a valid time.")),
        Errno.EFAULT => new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
            $"{operation} failed on the word at 0x{address:x}: the address is not mapped (EFAULT). The segment was detached under a waiter: keep the attachment alive until every wait on it has returned.")),
        _ => new IpcException(string.Create(CultureInfo.InvariantCulture,
            $"{operation} failed on the word at 0x{address:x}: {Errno.Describe(errno)} (errno {errno}).")),
    };

    /// <summary>FUTEX_WAKE failed with something other than EFAULT.</summary>
    internal static Exception ForWake(int errno, nint address) => errno == Errno.EINVAL
        ? new ArgumentException(string.Create(CultureInfo.InvariantCulture,
            $"FUTEX_WAKE failed on the word at 0x{address:x}: invalid argument (EINVAL). A futex word must be 4-byte aligned."))
        : new IpcException(string.Create(CultureInfo.InvariantCulture,
            $"FUTEX_WAKE failed on the word at 0x{address:x}: {Errno.Describe(errno)} (errno {errno})."));

    /// <summary>The futex calls are not available on this architecture.</summary>
    internal static PlatformNotSupportedException UnsupportedArchitecture() =>
        new($"futex-based synchronization needs Linux on x86-64 or arm64; this process is {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}.");

    /// <summary>epoll_create1, epoll_ctl, epoll_wait or eventfd failed in the liveness monitor.</summary>
    internal static Exception ForMonitor(int errno, string operation) => errno is Errno.EMFILE or Errno.ENFILE
        ? new IpcLimitExceededException(string.Create(CultureInfo.InvariantCulture,
            $"{operation} failed: too many open files ({(errno == Errno.EMFILE ? "EMFILE: the per-process limit, ulimit -n" : "ENFILE: the system-wide limit, fs.file-max")}). The liveness monitor needs one descriptor per watched process."))
        : new IpcException(string.Create(CultureInfo.InvariantCulture, $"{operation} failed: {Errno.Describe(errno)} (errno {errno})."));
}
