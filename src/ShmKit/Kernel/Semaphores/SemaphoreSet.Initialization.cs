using System.Buffers;
using System.Diagnostics;
using ShmKit.Interop;
using SemControl = ShmKit.IpcControl<ShmKit.SemaphoreSetKind, ShmKit.SemaphoreSetStatus>;

namespace ShmKit;

/// <content>
/// Initialization: the creator's SETALL and publishing semop, and the openers' wait for it (see the remarks on
/// <see cref="SemaphoreSet"/>).
/// </content>
public sealed partial class SemaphoreSet
{
    /// <summary>SETALL, then the publishing semop that sets sem_otime (see the remarks). Removes the set on failure.</summary>
    private static unsafe void Initialize(int id, IpcKey key, ReadOnlySpan<short> values)
    {
        try
        {
            SetAll(id, key, values);

            // +1 then -1 on semaphore 0 in one atomic call: always possible, leaves the value as it was, and as the
            // set's first semop it moves sem_otime off 0. At SEMVMX the +1 would be ERANGE, so go -1 then +1 instead.
            // IPC_NOWAIT: if another process meddled with the unpublished set, fail rather than hang.
            short first = values[0] < Sem.SEMVMX ? (short)1 : (short)-1;
            Sem.sembuf* ops = stackalloc Sem.sembuf[2];
            ops[0] = MakeOp(0, first, undo: false, noWait: true);
            ops[1] = MakeOp(0, (short)-first, undo: false, noWait: true);
            while (Sem.semop(id, ops, 2) < 0)
            {
                int errno = Errno.Last;
                if (errno != Errno.EINTR)
                {
                    IpcErrors.Throw(errno, SemControl.Call("semop (initialization)", key, id));
                }
            }
        }
        catch (Exception e)
        {
            // Never leave a set behind that openers would wait on in vain.
            FailureCleanup.Run(e, () => SemControl.Remove(id, key, existed: true));
            throw;
        }
    }

    private static unsafe void SetAll(int id, IpcKey key, ReadOnlySpan<short> values)
    {
        ushort[]? rented = null;
        Span<ushort> buffer = values.Length <= 256 ? stackalloc ushort[256] : (rented = ArrayPool<ushort>.Shared.Rent(values.Length));
        try
        {
            for (int i = 0; i < values.Length; i++)
            {
                buffer[i] = (ushort)values[i];
            }

            fixed (ushort* p = buffer)
            {
                if (Sem.semctl(id, 0, Sem.SETALL, (nint)p) < 0)
                {
                    throw SemaphoreErrors.ForControl(Errno.Last, SemControl.Call("semctl(SETALL)", key, id));
                }
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<ushort>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// Polls until sem_otime is non-zero (IPC_STAT, or SEM_STAT_ANY when this user may not read the set: waiting for
    /// the creator needs no read permission); returns the number of semaphores.
    /// </summary>
    private static int WaitUntilInitialized(int id, IpcKey key, TimeSpan timeout)
    {
        long start = Stopwatch.GetTimestamp();
        int sleep = 1;
        while (true)
        {
            if (!SemControl.TryStatMetadata(id, out SemaphoreSetStatus status, out int errno))
            {
                throw IpcErrors.ForControl(errno, SemControl.Call("semctl(IPC_STAT)", key, id), existed: true, errno == Errno.EACCES
                    ? "permission denied: checking that its creator has initialized it reads sem_otime, which needs read permission on this kernel (it has no SEM_STAT_ANY). Open it with SemaphoreSet.OpenWithoutInitializationWait to skip the check."
                    : null);
            }

            if (status.sem_otime != 0)
            {
                return (int)status.sem_nsems;
            }

            if (Stopwatch.GetElapsedTime(start) >= timeout)
            {
                throw SemaphoreErrors.NotInitialized(key, id, timeout);
            }

            Thread.Sleep(sleep);
            sleep = Math.Min(sleep * 2, 20);
        }
    }
}
