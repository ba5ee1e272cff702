using System.Globalization;
using ShmKit.Interop;

namespace ShmKit;

/// <summary>The errors particular to semaphore sets (semget, semop, semtimedop, semctl).</summary>
internal static class SemaphoreErrors
{
    // The public parameters that semaphore errors are about (the exceptions name them, not this class's parameters;
    // fields rather than constants, so the analyzer does not mistake them for this class's own parameter names).
    private static readonly string s_indexParameter = "index";
    private static readonly string s_countParameter = "count";
    private static readonly string s_valueParameter = "value";
    private static readonly string s_operationsParameter = "operations";

    /// <summary>semget failed; EINVAL is either an existing set with fewer semaphores or more than semmsl.</summary>
    internal static unsafe Exception ForSemget(int errno, in IpcCall call, int count)
    {
        string? detail = null;
        if (errno == Errno.EINVAL)
        {
            int existing = call.Key is { IsPrivate: false } key ? Sem.semget(key.Value, 0, 0) : -1;
            if (existing >= 0 && SemaphoreSetKind.TryReadCount(existing) is int nsems && nsems < count)
            {
                detail = string.Create(CultureInfo.InvariantCulture,
                    $"the set exists with {nsems} semaphores, fewer than the {count} asked. Ask for at most {nsems}, or, if nobody uses it, remove it (`{call.RemoveCommand(existing)}`) and create it again.");
            }
            else
            {
                Sem.seminfo info;
                string limit = Sem.semctl(0, 0, Ipc.IPC_INFO, (nint)(&info)) >= 0
                    ? string.Create(CultureInfo.InvariantCulture, $"semmsl={info.semmsl}")
                    : "semmsl";
                detail = string.Create(CultureInfo.InvariantCulture,
                    $"{count} semaphores is more than one set may hold ({limit}). Ask for fewer, or raise kernel.sem.");
            }
        }

        return IpcErrors.Create(errno, call, detail);
    }

    /// <summary>
    /// semop or semtimedop failed with something other than EINTR (retried) or EAGAIN (timeout or IPC_NOWAIT, which
    /// the caller turns into <see cref="Timeout"/> or false). <paramref name="setStillExists"/> tells a set removed
    /// before the call (the kernel says EINVAL) from a genuinely invalid argument.
    /// </summary>
    internal static unsafe Exception ForOperation(int errno, in IpcCall call, bool setStillExists, int? semaphoreCount)
    {
        string prefix = $"{call.Operation} failed for the {call.Describe()}: ";
        switch (errno)
        {
            case Errno.EFBIG:
                return new ArgumentOutOfRangeException(s_indexParameter, prefix + (semaphoreCount is int n
                    ? string.Create(CultureInfo.InvariantCulture, $"a semaphore index is outside the set (EFBIG). The set has {n} semaphores: valid indexes are 0..{n - 1}.")
                    : "a semaphore index is outside the set (EFBIG)."));
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
                return IpcErrors.Create(Errno.EIDRM, call,
                    "the set was removed (IPC_RMID) before or while this process waited on it. Create or open it again.");
            case Errno.EINVAL:
                return new IpcException(
                    prefix + "invalid argument (EINVAL): the number of operations is not positive or an operation is malformed.",
                    call.Kind, call.Operation, call.Key, call.Id, errno);
            default:
                return IpcErrors.Create(errno, call);
        }
    }

    /// <summary>A semaphore operation did not complete within its timeout (semtimedop's EAGAIN).</summary>
    internal static TimeoutException Timeout(in IpcCall call, string what, TimeSpan timeout)
    {
        string inspect = call.Id is int id
            ? string.Create(CultureInfo.InvariantCulture, $"`ipcs -s -i {id}` shows the pid of the last operation on each semaphore")
            : "`ipcs -s -i id` shows the pid of the last operation on each semaphore";
        return new(string.Create(CultureInfo.InvariantCulture,
            $"{call.Operation} ({what}) on the {call.Describe()} timed out after {timeout.TotalMilliseconds:0.###} ms. Whoever should release it has not: check that that process is alive ({inspect}), or wait longer."));
    }

    /// <summary>
    /// semctl on a set failed. A stale id is EINVAL or EIDRM, reported as removed; ERANGE on SETVAL/SETALL is a
    /// value outside 0..SEMVMX.
    /// </summary>
    internal static Exception ForControl(int errno, in IpcCall call) => errno switch
    {
        Errno.ERANGE => new ArgumentOutOfRangeException(s_valueParameter, string.Create(CultureInfo.InvariantCulture,
            $"{call.Operation} failed for the {call.Describe()}: a value is outside 0..{Sem.SEMVMX} (SEMVMX) (ERANGE).")),
        _ => IpcErrors.ForControl(errno, call, existed: true),
    };

    /// <summary>
    /// The set exists but no semop ever happened on it (sem_otime is 0) within the initialization timeout. ShmKit's
    /// creators always make one, so either a ShmKit creator died between semget and that semop, or another program
    /// made the set and set its values with semctl only (ipcmk -S does, and so does much C code): then the set is
    /// live and must not be removed.
    /// </summary>
    internal static SemaphoreSetNotInitializedException NotInitialized(IpcKey key, int id, TimeSpan timeout) =>
        new(string.Create(CultureInfo.InvariantCulture,
                $"The semaphore set with key {key} (id {id}) exists, but no semop happened on it within {timeout.TotalMilliseconds:0} ms (semctl(IPC_STAT) reports sem_otime 0), so it was not initialized the way ShmKit initializes sets. It may belong to another program that sets values without a semop (ipcmk -S does): then use it as it is, with SemaphoreSet.OpenById({id}) or SemaphoreSet.OpenWithoutInitializationWait({key}). If a ShmKit creator died while initializing it, nobody uses it: remove it (`ipcrm -s {id}`) and create it again."),
            key,
            id);

    /// <summary>
    /// An operation of <see cref="SemaphoreSet.Apply"/> can never complete: no value 0..SEMVMX lets the operations on
    /// semaphore <paramref name="index"/> happen in order, so the call would wait forever (or fail with ERANGE).
    /// </summary>
    internal static ArgumentOutOfRangeException ImpossibleOperations(in IpcCall call, int index, int needed, bool zeroWait) =>
        new(s_operationsParameter, zeroWait
            ? string.Create(CultureInfo.InvariantCulture,
                $"The operations on semaphore {index} of the {call.Describe()} can never all happen: a wait for zero comes after changes that no value 0..{Sem.SEMVMX} (SEMVMX) can bring back to zero at that point, so semop would wait forever. Split them into separate calls.")
            : string.Create(CultureInfo.InvariantCulture,
                $"The operations on semaphore {index} of the {call.Describe()} can never all happen: taking them in order needs a value of at least {needed}, more than a semaphore can hold (SEMVMX={Sem.SEMVMX}), so semop would wait forever. Take less, or split them into separate calls."));

    /// <summary>ENOSPC from semget: which limit, with the numbers, or null if they cannot be read.</summary>
    internal static unsafe string? DescribeLimit()
    {
        Sem.seminfo info;
        return Sem.semctl(0, 0, Ipc.IPC_INFO, (nint)(&info)) < 0
            ? null
            : string.Create(CultureInfo.InvariantCulture,
                $"the system is out of semaphores: at most semmni={info.semmni} sets and semmns={info.semmns} semaphores. Remove unused sets (`ipcs -s` lists them, `ipcrm -s id` removes one) or raise kernel.sem.");
    }
}
