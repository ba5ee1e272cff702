using System.Runtime.InteropServices;

namespace ShmKit.Interop;

/// <summary>epoll(7): epoll_create1, epoll_ctl, epoll_wait (sys/epoll.h).</summary>
internal static unsafe partial class Epoll
{
    internal const int EPOLL_CLOEXEC = 0x80000;   // 02000000

    internal const int EPOLL_CTL_ADD = 1;
    internal const int EPOLL_CTL_DEL = 2;
    internal const int EPOLL_CTL_MOD = 3;

    internal const uint EPOLLIN = 0x001;
    internal const uint EPOLLERR = 0x008;
    internal const uint EPOLLHUP = 0x010;

    /// <summary>
    /// <c>struct epoll_event</c> on x86-64: packed (<c>__attribute__((packed))</c>, 12 bytes, data at offset 4), for
    /// compatibility with 32-bit x86. arm64 aligns it naturally (<see cref="epoll_event_generic64"/>).
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 12)]
    internal struct epoll_event_x64
    {
        [FieldOffset(0)] public uint events;

        /// <summary>epoll_data_t (a union); ShmKit uses its 64-bit member.</summary>
        [FieldOffset(4)] public ulong data;
    }

    /// <summary><c>struct epoll_event</c> on arm64 and other asm-generic 64-bit targets (16 bytes, data at 8).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 16)]
    internal struct epoll_event_generic64
    {
        [FieldOffset(0)] public uint events;
        [FieldOffset(8)] public ulong data;
    }

    /// <summary>True where epoll_event is the packed x86-64 layout.</summary>
    internal static bool IsPackedLayout => RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>The size of one epoll_event on this architecture.</summary>
    internal static int EventSize => IsPackedLayout ? sizeof(epoll_event_x64) : sizeof(epoll_event_generic64);

    [LibraryImport(Libraries.Libc, EntryPoint = "epoll_create1", SetLastError = true)]
    internal static partial int epoll_create1(int flags);

    /// <summary><paramref name="event"/> points at the architecture's epoll_event (null for EPOLL_CTL_DEL).</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "epoll_ctl", SetLastError = true)]
    internal static partial int epoll_ctl(int epfd, int op, int fd, void* @event);

    /// <summary><paramref name="events"/> is an array of <paramref name="maxevents"/> of the architecture's epoll_event.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "epoll_wait", SetLastError = true)]
    internal static partial int epoll_wait(int epfd, void* events, int maxevents, int timeout);

    /// <summary>epoll_ctl with an event built in the running architecture's layout.</summary>
    internal static int Control(int epfd, int op, int fd, uint events, ulong data)
    {
        if (IsPackedLayout)
        {
            epoll_event_x64 e = new() { events = events, data = data };
            return epoll_ctl(epfd, op, fd, &e);
        }
        else
        {
            epoll_event_generic64 e = new() { events = events, data = data };
            return epoll_ctl(epfd, op, fd, &e);
        }
    }

    /// <summary>Reads event <paramref name="index"/> of an epoll_wait result buffer in the running architecture's layout.</summary>
    internal static (uint Events, ulong Data) GetEvent(byte* buffer, int index)
    {
        if (IsPackedLayout)
        {
            var e = ((epoll_event_x64*)buffer)[index];
            return (e.events, e.data);
        }
        else
        {
            var e = ((epoll_event_generic64*)buffer)[index];
            return (e.events, e.data);
        }
    }
}
