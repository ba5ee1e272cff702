namespace ShmKit.Interop;

/// <summary>errno values of the descriptor and process calls (pidfd_open, epoll, eventfd, open).</summary>
internal static partial class Errno
{
    internal const int EBADF = 9;
    internal const int ENFILE = 23;
    internal const int EMFILE = 24;
}
