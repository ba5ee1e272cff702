using System.Runtime.InteropServices;

namespace ShmKit.Interop;

/// <summary>Plain descriptor calls (fcntl.h, unistd.h): reading small /proc files without allocating, closing descriptors.</summary>
internal static unsafe partial class FdCalls
{
    internal const int O_RDONLY = 0;
    internal const int O_CLOEXEC = 0x80000;      // 02000000

    /// <summary><paramref name="pathname"/> is a NUL-terminated UTF-8 path.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "open", SetLastError = true)]
    internal static partial int open(byte* pathname, int flags);

    [LibraryImport(Libraries.Libc, EntryPoint = "read", SetLastError = true)]
    internal static partial nint read(int fd, void* buf, nuint count);

    [LibraryImport(Libraries.Libc, EntryPoint = "write", SetLastError = true)]
    internal static partial nint write(int fd, void* buf, nuint count);

    [LibraryImport(Libraries.Libc, EntryPoint = "close", SetLastError = true)]
    internal static partial int close(int fd);
}
