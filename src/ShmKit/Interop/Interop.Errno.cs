using System.Runtime.InteropServices;

namespace ShmKit.Interop;

/// <summary>
/// Linux errno values (identical on x86-64 and arm64: both use asm-generic/errno-base.h and errno.h).
/// </summary>
internal static partial class Errno
{
    internal const int EPERM = 1;
    internal const int ENOENT = 2;
    internal const int ESRCH = 3;
    internal const int EINTR = 4;
    internal const int E2BIG = 7;
    internal const int EAGAIN = 11;
    internal const int ENOMEM = 12;
    internal const int EACCES = 13;
    internal const int EFAULT = 14;
    internal const int EEXIST = 17;
    internal const int EINVAL = 22;
    internal const int EFBIG = 27;
    internal const int ENOSPC = 28;
    internal const int ERANGE = 34;
    internal const int ENOSYS = 38;
    internal const int ENOMSG = 42;
    internal const int EIDRM = 43;
    internal const int ETIMEDOUT = 110;

    /// <summary>The errno captured by the marshaller right after the last <c>SetLastError = true</c> call.</summary>
    internal static int Last => Marshal.GetLastPInvokeError();

    /// <summary>strerror text for <paramref name="errno"/>, as the runtime knows it.</summary>
    internal static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);
}
