using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using ShmKit.Interop;

namespace ShmKit;

/// <summary>
/// Where errno becomes an exception, for what all three kinds share; <see cref="SharedMemoryErrors"/>,
/// <see cref="SemaphoreErrors"/>, <see cref="MessageQueueErrors"/> and <see cref="SignalErrors"/> add what is
/// particular to one kind. Every message names the C call, the object (key and/or id) and what to do; hints name
/// util-linux tools (ipcs, ipcrm), never shmkit commands: the CLI adds its own from the exception's properties.
/// EINTR never reaches this map: the callers retry it.
/// </summary>
internal static class IpcErrors
{
    /// <summary>Throws the exception for <paramref name="errno"/>.</summary>
    [DoesNotReturn]
    internal static void Throw(int errno, in IpcCall call, string? detail = null) => throw Create(errno, call, detail);

    /// <summary>Throws the exception for the errno of the last call.</summary>
    [DoesNotReturn]
    internal static void ThrowLast(in IpcCall call, string? detail = null) => throw Create(Errno.Last, call, detail);

    /// <summary>
    /// Builds the exception for <paramref name="errno"/>. <paramref name="detail"/>, when given, replaces the
    /// generic explanation (the caller knows more, for example which size rule an EINVAL broke).
    /// </summary>
    internal static Exception Create(int errno, in IpcCall call, string? detail = null)
    {
        string prefix = $"{call.Operation} failed for the {call.Describe()}: ";
        switch (errno)
        {
            case Errno.ENOENT:
                return new IpcObjectNotFoundException(
                    prefix + (detail ?? $"it does not exist. Check the key or id (`{call.ListCommand()}` lists what exists), or create it first."),
                    call.Kind, call.Operation, call.Key, call.Id, errno);
            case Errno.EEXIST:
                return new IpcObjectExistsException(
                    prefix + (detail ?? $"it already exists and exclusive creation was asked for. Open it instead, pick another key, or, if it is a stale one nobody uses, remove it (`{call.RemoveCommand()}`)."),
                    call.Kind, call.Operation, call.Key, call.Id, errno);
            case Errno.EACCES:
            case Errno.EPERM:
                return new IpcAccessDeniedException(
                    prefix + (detail ?? (errno == Errno.EPERM
                        ? "permission denied: only its owner, its creator or a privileged process may change or remove it."
                        : $"permission denied: its mode does not grant this user the access asked. `{call.ListCommand()}` shows its owner and mode.")),
                    call.Kind, call.Operation, call.Key, call.Id, errno);
            case Errno.EIDRM:
                return new IpcObjectRemovedException(
                    prefix + (detail ?? "it was removed (IPC_RMID) while in use. Create or open it again."),
                    call.Kind, call.Operation, call.Key, call.Id, errno);
            case Errno.ENOSPC:
            case Errno.ENOMEM:
                return new IpcLimitExceededException(
                    prefix + (detail ?? DescribeLimit(call.Kind, errno)),
                    call.Kind, call.Operation, call.Key, call.Id, errno);
            case Errno.E2BIG:
                return new IpcSizeException(
                    prefix + (detail ?? "the message is larger than the buffer (E2BIG); it stays in the queue. Pass a larger buffer, or ask for truncation."),
                    call.Kind, call.Operation, call.Key, call.Id, errno);
            case Errno.EINVAL when detail is not null:
                return new IpcSizeException(prefix + detail, call.Kind, call.Operation, call.Key, call.Id, errno);
            case Errno.EINVAL:
                return new IpcException(
                    prefix + "invalid argument (EINVAL): the id is not in use, the object was removed, or a size or flag is outside what the kernel accepts.",
                    call.Kind, call.Operation, call.Key, call.Id, errno);
            default:
                return new IpcException(
                    prefix + Errno.Describe(errno) + ".",
                    call.Kind, call.Operation, call.Key, call.Id, errno);
        }
    }

    /// <summary>
    /// A *ctl call on an id failed. The kernel reports an id that is not (or no longer) in use as EINVAL or EIDRM.
    /// To a caller that looked the id up just now (<paramref name="existed"/> false: OpenById, static Remove) that is
    /// <see cref="IpcObjectNotFoundException"/>; to one that held an object since removed (Stat, Remove, SetMode on
    /// an instance) it is <see cref="IpcObjectRemovedException"/>. The same rule holds for all three kinds.
    /// </summary>
    internal static Exception ForControl(int errno, in IpcCall call, bool existed, string? detail = null)
    {
        if (errno is not (Errno.EINVAL or Errno.EIDRM))
        {
            return Create(errno, call, detail);
        }

        string list = call.ListCommand();
        return existed
            ? Create(Errno.EIDRM, call, $"it has been removed (IPC_RMID) and its id is no longer in use. Open or create it again; `{list}` lists what exists.")
            : Create(Errno.ENOENT, call, $"nothing has this id: it was never created or has been removed. `{list}` lists what exists.");
    }

    /// <summary>ftok failed: the path is missing or unreadable.</summary>
    internal static Exception ForFtok(int errno, string path) => errno switch
    {
        Errno.ENOENT => new FileNotFoundException(
            $"ftok failed: '{path}' does not exist. A path:projid key needs an existing file or directory (ftok uses its inode).", path),
        Errno.EACCES => new IpcAccessDeniedException(
            $"ftok failed: '{path}' cannot be reached (permission denied on a directory in the path)."),
        _ => new IpcException($"ftok failed for '{path}': {Errno.Describe(errno)}."),
    };

    /// <summary>
    /// The process runs on an architecture whose C struct layouts ShmKit has not checked against the headers: reading
    /// a kernel struct with the wrong layout would return garbage silently, so nothing is called at all.
    /// </summary>
    internal static PlatformNotSupportedException UnverifiedArchitecture(Architecture architecture) =>
        new($"ShmKit supports System V IPC on Linux x64 and arm64, whose struct layouts (ipc_perm, shmid_ds, semid_ds, msqid_ds and the *info structs) are checked against the C headers; this process runs on {architecture}, whose layouts are not verified. Run on x64 or arm64.");

    private static string DescribeLimit(IpcObjectKind kind, int errno) =>
        (kind switch
        {
            IpcObjectKind.SharedMemory => SharedMemoryErrors.DescribeLimit(errno),
            IpcObjectKind.SemaphoreSet => SemaphoreErrors.DescribeLimit(),
            _ => MessageQueueErrors.DescribeLimit(),
        })
        ?? (errno == Errno.ENOSPC ? "a system-wide IPC limit was reached (ENOSPC)." : "not enough memory (ENOMEM).");
}
