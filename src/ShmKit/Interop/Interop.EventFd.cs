using System.Runtime.InteropServices;

namespace ShmKit.Interop;

/// <summary>eventfd(2) (sys/eventfd.h): a counter descriptor, used to wake a thread blocked in epoll_wait.</summary>
internal static partial class EventFd
{
    internal const int EFD_NONBLOCK = 0x800;     // 04000
    internal const int EFD_CLOEXEC = 0x80000;    // 02000000

    [LibraryImport(Libraries.Libc, EntryPoint = "eventfd", SetLastError = true)]
    internal static partial int eventfd(uint initval, int flags);
}
