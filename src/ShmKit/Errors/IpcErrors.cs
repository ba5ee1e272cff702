using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using ShmKit.Interop;

namespace ShmKit;

/// <summary>What a failed call was about: enough to write a message a person can act on.</summary>
/// <param name="Kind">The family of object.</param>
/// <param name="Operation">The C call, for example "shmget".</param>
/// <param name="Key">The key, when the call named one.</param>
/// <param name="Id">The id, when the call named one.</param>
internal readonly record struct IpcCall(IpcObjectKind Kind, string Operation, IpcKey? Key = null, int? Id = null)
{
    internal string Describe()
    {
        string what = Kind switch
        {
            IpcObjectKind.SharedMemory => "shared memory segment",
            IpcObjectKind.SemaphoreSet => "semaphore set",
            _ => "message queue",
        };
        if (Key is { IsPrivate: false } key && Id is int id)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{what} with key {key} (id {id})");
        }

        if (Key is { IsPrivate: false } k)
        {
            return $"{what} with key {k}";
        }

        if (Id is int i)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{what} with id {i}");
        }

        return Key is { IsPrivate: true } ? $"private {what}" : what;
    }

    /// <summary>
    /// The shmkit command that does <paramref name="verb"/> for this kind of object, for hints in messages:
    /// <c>shmkit rm</c> for segments, <c>shmkit sem rm</c> for semaphore sets, <c>shmkit msg rm</c> for queues.
    /// </summary>
    internal string CliCommand(string verb) => Kind switch
    {
        IpcObjectKind.SharedMemory => "shmkit " + verb,
        IpcObjectKind.SemaphoreSet => "shmkit sem " + verb,
        _ => "shmkit msg " + verb,
    };
}

/// <summary>
/// The one place where errno becomes an exception. Every message names the operation, the object and what to do.
/// EINTR never reaches this map: the callers retry it.
/// </summary>
internal static class IpcErrors
{
    // The public parameters that semaphore errors are about (the exceptions name them, not this class's parameters).
    private static readonly string s_indexParameter = "index";
    private static readonly string s_countParameter = "count";
    private static readonly string s_valueParameter = "value";
    private static readonly string s_operationsParameter = "operations";

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
        string subject = call.Describe();
        string prefix = $"{call.Operation} failed for the {subject}: ";
        switch (errno)
        {
            case Errno.ENOENT:
                return new IpcObjectNotFoundException(
                    prefix + (detail ?? "it does not exist. Check the key or id (`shmkit list --all` shows what exists), or create it first."),
                    call.Kind, call.Operation, call.Key, call.Id, errno);
            case Errno.EEXIST:
                return new IpcObjectExistsException(
                    prefix + (detail ?? $"it already exists and exclusive creation was asked for. Open it instead, pick another key, or remove the old one (`{call.CliCommand("rm")}`)."),
                    call.Kind, call.Operation, call.Key, call.Id, errno);
            case Errno.EACCES:
            case Errno.EPERM:
                return new IpcAccessDeniedException(
                    prefix + (detail ?? (errno == Errno.EPERM
                        ? "permission denied: only its owner, its creator or a privileged process may change or remove it."
                        : $"permission denied: its mode does not grant this user the access asked. Check `{call.CliCommand("info")}` for the owner and mode.")),
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

        string list = call.CliCommand("list");
        return existed
            ? Create(Errno.EIDRM, call, $"it has been removed (IPC_RMID) and its id is no longer in use. Open or create it again; `{list}` shows what exists.")
            : Create(Errno.ENOENT, call, $"nothing has this id: it was never created or has been removed. `{list}` shows what exists.");
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
    /// semop or semtimedop failed with something other than EINTR (retried) or EAGAIN (timeout or IPC_NOWAIT, which
    /// the caller turns into <see cref="SemaphoreTimeout"/> or false). <paramref name="setStillExists"/> tells a
    /// set removed before the call (the kernel says EINVAL) from a genuinely invalid argument.
    /// </summary>
    internal static unsafe Exception ForSemaphoreOperation(int errno, in IpcCall call, bool setStillExists, int semaphoreCount)
    {
        string prefix = $"{call.Operation} failed for the {call.Describe()}: ";
        switch (errno)
        {
            case Errno.EFBIG:
                return new ArgumentOutOfRangeException(s_indexParameter, string.Create(CultureInfo.InvariantCulture,
                    $"{prefix}a semaphore index is outside the set (EFBIG). The set has {semaphoreCount} semaphores: valid indexes are 0..{semaphoreCount - 1}."));
            case Errno.E2BIG:
            {
                Sem.seminfo info;
                string limit = Sem.semctl(0, 0, Ipc.IPC_INFO, (nint)(&info)) >= 0
                    ? string.Create(CultureInfo.InvariantCulture, $"semopm={info.semopm}")
                    : "semopm";
                return new ArgumentException(
                    $"{prefix}too many operations in one call (E2BIG): at most {limit} per semop. Split the operations, or raise kernel.sem.",
                    s_operationsParameter);
            }

            case Errno.ERANGE:
                return new ArgumentOutOfRangeException(s_countParameter, string.Create(CultureInfo.InvariantCulture,
                    $"{prefix}the result is out of range (ERANGE): a semaphore would exceed SEMVMX={Sem.SEMVMX}, or this process's SEM_UNDO adjustment for it would leave -{Sem.SEMVMX + 1}..{Sem.SEMVMX} (semaem). Release less, or pass undo: false for counting semaphores that one process releases and another acquires."));
            case Errno.EIDRM:
            case Errno.EINVAL when !setStillExists:
                return Create(Errno.EIDRM, call,
                    "the set was removed (IPC_RMID) before or while this process waited on it. Create or open it again.");
            case Errno.EINVAL:
                return new IpcException(
                    prefix + "invalid argument (EINVAL): the number of operations is not positive or an operation is malformed.",
                    call.Kind, call.Operation, call.Key, call.Id, errno);
            default:
                return Create(errno, call);
        }
    }

    /// <summary>A semaphore operation did not complete within its timeout (semtimedop's EAGAIN).</summary>
    internal static TimeoutException SemaphoreTimeout(in IpcCall call, string what, TimeSpan timeout) =>
        new(string.Create(CultureInfo.InvariantCulture,
            $"{call.Operation} ({what}) on the {call.Describe()} timed out after {timeout.TotalMilliseconds:0.###} ms. Whoever should release it has not: check that process is alive (`shmkit sem info` shows the last pid), or wait longer."));

    /// <summary>
    /// semctl on a set failed. A stale id is EINVAL or EIDRM, reported as removed; ERANGE on SETVAL/SETALL is a
    /// value outside 0..SEMVMX.
    /// </summary>
    internal static Exception ForSemaphoreControl(int errno, in IpcCall call) => errno switch
    {
        Errno.EINVAL or Errno.EIDRM => ForControl(errno, call, existed: true),
        Errno.ERANGE => new ArgumentOutOfRangeException(s_valueParameter, string.Create(CultureInfo.InvariantCulture,
            $"{call.Operation} failed for the {call.Describe()}: a value is outside 0..{Sem.SEMVMX} (SEMVMX) (ERANGE).")),
        _ => Create(errno, call),
    };

    /// <summary>kill(2) failed while sending a notification signal.</summary>
    internal static Exception ForSignal(int errno, int processId, int signal) => errno switch
    {
        Errno.ESRCH => new ArgumentException(string.Create(CultureInfo.InvariantCulture,
            $"kill({processId}, {signal}) failed: no process has id {processId} (ESRCH). It has exited, or the id is wrong."), nameof(processId)),
        Errno.EPERM => new IpcAccessDeniedException(string.Create(CultureInfo.InvariantCulture,
            $"kill({processId}, {signal}) failed: permission denied (EPERM). Only processes of the same user (or root) may signal process {processId}.")),
        _ => new IpcException(string.Create(CultureInfo.InvariantCulture,
            $"kill({processId}, {signal}) failed: {Errno.Describe(errno)}.")),
    };

    private static unsafe string DescribeLimit(IpcObjectKind kind, int errno)
    {
        switch (kind)
        {
            case IpcObjectKind.SharedMemory:
            {
                Shm.shminfo info;
                Shm.shm_info usage;
                bool haveInfo = Shm.shmctl(0, Ipc.IPC_INFO, &info) >= 0;
                bool haveUsage = Shm.shmctl(0, Shm.SHM_INFO, &usage) >= 0;
                if (!haveInfo || !haveUsage)
                {
                    break;
                }

                return errno == Errno.ENOSPC
                    ? string.Create(CultureInfo.InvariantCulture,
                        $"the system is out of shared memory: {usage.used_ids} of shmmni={info.shmmni} segment ids in use, {usage.shm_tot} of shmall={info.shmall} pages allocated. Remove unused segments (`shmkit list`, `shmkit rm`) or raise kernel.shmmni / kernel.shmall.")
                    : string.Create(CultureInfo.InvariantCulture,
                        $"not enough memory for the segment (ENOMEM): {usage.shm_tot} of shmall={info.shmall} pages allocated. Ask for less, free memory, or raise kernel.shmall.");
            }

            case IpcObjectKind.SemaphoreSet:
            {
                Sem.seminfo info;
                if (Sem.semctl(0, 0, Ipc.IPC_INFO, (nint)(&info)) < 0)
                {
                    break;
                }

                return string.Create(CultureInfo.InvariantCulture,
                    $"the system is out of semaphores: at most semmni={info.semmni} sets and semmns={info.semmns} semaphores. Remove unused sets (`shmkit sem list`, `shmkit sem rm`) or raise kernel.sem.");
            }

            case IpcObjectKind.MessageQueue:
            {
                Msg.msginfo info;
                if (Msg.msgctl(0, Ipc.IPC_INFO, &info) < 0)
                {
                    break;
                }

                return string.Create(CultureInfo.InvariantCulture,
                    $"the system is out of message queues: at most msgmni={info.msgmni} queues. Remove unused queues (`shmkit msg list`, `shmkit msg rm`) or raise kernel.msgmni.");
            }
        }

        return errno == Errno.ENOSPC ? "a system-wide IPC limit was reached (ENOSPC)." : "not enough memory (ENOMEM).";
    }
}
