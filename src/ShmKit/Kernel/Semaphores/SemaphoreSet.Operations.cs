using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using ShmKit.Interop;
using SemControl = ShmKit.IpcControl<ShmKit.SemaphoreSetKind, ShmKit.SemaphoreSetStatus>;

namespace ShmKit;

/// <content>The operations: semop and semtimedop, one place that waits, and the checks before any wait.</content>
public sealed partial class SemaphoreSet
{
    private const string SemopName = "semop";
    private const string SemtimedopName = "semtimedop";
    private const int StackOperations = 64;

    private static readonly TimeSpan s_slice = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Subtracts <paramref name="count"/> from semaphore <paramref name="index"/>, waiting while its value is smaller
    /// (P, "acquire").
    /// </summary>
    /// <param name="index">The semaphore, 0..Count-1.</param>
    /// <param name="count">How much to take, 1..32767.</param>
    /// <param name="timeout">How long to wait; null or <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait (observed within about 50 ms).</param>
    /// <param name="undo">SEM_UNDO: give it back if this process exits without releasing (see the remarks on <see cref="SemaphoreSet"/>).</param>
    /// <exception cref="TimeoutException">The value stayed too small for <paramref name="timeout"/>.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="IpcObjectRemovedException">The set was removed.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1068:CancellationToken parameters must come last", Justification = "Shape fixed by the issue 3 API contract: undo is an optional trailing flag.")]
    public unsafe void Wait(int index, short count = 1, TimeSpan? timeout = null, CancellationToken cancellationToken = default, bool undo = true)
    {
        CheckIndex(index);
        CheckPositive(count);
        Sem.sembuf op = MakeOp(index, (short)-count, undo, noWait: false);
        Execute(&op, 1, timeout, cancellationToken);
    }

    /// <summary>Subtracts <paramref name="count"/> if that is possible right now (IPC_NOWAIT); never blocks.</summary>
    /// <param name="index">The semaphore, 0..Count-1.</param>
    /// <param name="count">How much to take, 1..32767.</param>
    /// <param name="undo">SEM_UNDO, as for <see cref="Wait"/>.</param>
    /// <returns>True when taken; false when the value was too small.</returns>
    public unsafe bool TryWait(int index, short count = 1, bool undo = true)
    {
        CheckIndex(index);
        CheckPositive(count);
        Sem.sembuf op = MakeOp(index, (short)-count, undo, noWait: true);
        return Execute(&op, 1, timeout: null, CancellationToken.None);
    }

    /// <summary>Adds <paramref name="count"/> to semaphore <paramref name="index"/> (V, "release"); never blocks.</summary>
    /// <param name="index">The semaphore, 0..Count-1.</param>
    /// <param name="count">How much to add, 1..32767.</param>
    /// <param name="undo">SEM_UNDO; must match the setting the matching <see cref="Wait"/> used.</param>
    /// <exception cref="ArgumentOutOfRangeException">The value would exceed 32767, or the undo adjustment its range.</exception>
    public unsafe void Release(int index, short count = 1, bool undo = true)
    {
        CheckIndex(index);
        CheckPositive(count);
        Sem.sembuf op = MakeOp(index, count, undo, noWait: false);
        Execute(&op, 1, timeout: null, CancellationToken.None);
    }

    /// <summary>Waits until semaphore <paramref name="index"/> is zero (a semop with delta 0).</summary>
    /// <param name="index">The semaphore, 0..Count-1.</param>
    /// <param name="timeout">How long to wait; null waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="TimeoutException">The value stayed non-zero for <paramref name="timeout"/>.</exception>
    public unsafe void WaitForZero(int index, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        CheckIndex(index);
        Sem.sembuf op = MakeOp(index, 0, undo: false, noWait: false);
        Execute(&op, 1, timeout, cancellationToken);
    }

    /// <summary>
    /// Takes a lock: <see cref="Wait"/> for 1 on <paramref name="index"/>, released when the returned scope is disposed.
    /// </summary>
    /// <param name="index">The semaphore used as a lock (initial value 1).</param>
    /// <param name="timeout">How long to wait; null waits forever.</param>
    /// <param name="undo">SEM_UNDO (default): a process that dies holding the lock releases it.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The held lock, for <c>using</c>.</returns>
    public SemaphoreLockScope Lock(int index, TimeSpan? timeout = null, bool undo = true, CancellationToken cancellationToken = default)
    {
        Wait(index, 1, timeout, cancellationToken, undo);
        return new SemaphoreLockScope(this, index, undo);
    }

    /// <summary>
    /// Performs all <paramref name="operations"/> atomically (one semop): either every one of them happens, or none
    /// does and the call waits until all can. Operations on the same semaphore apply in order.
    /// </summary>
    /// <param name="operations">1..semopm operations.</param>
    /// <param name="timeout">How long to wait; null waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="TimeoutException">They could not all happen within the timeout, or an operation has NoWait and would block.</exception>
    /// <exception cref="ArgumentException">More operations than semopm.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// The operations can never all happen: on some semaphore they take more, in order, than SEMVMX (32767) lets it
    /// hold (a Delta of -32768, or several takes adding up), or a wait for zero follows changes that no value can
    /// bring back to zero. Refused before the call, which would otherwise wait forever.
    /// </exception>
    public unsafe void Apply(ReadOnlySpan<SemaphoreOperation> operations, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        if (!ApplyCore(operations, forceNoWait: false, timeout, cancellationToken))
        {
            throw SemaphoreErrors.Timeout(Call(SemopName), Describe(operations.Length, operations[0].Index, operations[0].Delta) + ", with NoWait set", TimeSpan.Zero);
        }
    }

    /// <summary>Performs all <paramref name="operations"/> atomically if they can all happen right now (IPC_NOWAIT on each).</summary>
    /// <param name="operations">1..semopm operations.</param>
    /// <returns>True when done; false when one of them would have had to wait (and so none happened).</returns>
    public bool TryApply(ReadOnlySpan<SemaphoreOperation> operations) =>
        ApplyCore(operations, forceNoWait: true, timeout: null, CancellationToken.None);

    private unsafe bool ApplyCore(ReadOnlySpan<SemaphoreOperation> operations, bool forceNoWait, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (operations.IsEmpty)
        {
            throw new ArgumentException("At least one operation is needed.", nameof(operations));
        }

        Sem.sembuf[]? rented = null;
        Span<Sem.sembuf> buffer = operations.Length <= StackOperations
            ? stackalloc Sem.sembuf[StackOperations]
            : (rented = ArrayPool<Sem.sembuf>.Shared.Rent(operations.Length));
        try
        {
            for (int i = 0; i < operations.Length; i++)
            {
                SemaphoreOperation op = operations[i];
                CheckIndex(op.Index);
                buffer[i] = MakeOp(op.Index, op.Delta, op.Undo, forceNoWait || op.NoWait);
            }

            CheckCanComplete(operations);

            fixed (Sem.sembuf* p = buffer)
            {
                return Execute(p, operations.Length, timeout, cancellationToken);
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<Sem.sembuf>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// Refuses operations that no starting value 0..SEMVMX lets happen in order, because semop would wait for them
    /// forever: the kernel applies a call's operations one after the other to the same values, so on each semaphore a
    /// take needs the value to cover it and every take before it, and a wait for zero needs the changes before it to
    /// leave exactly zero. (A release that would pass SEMVMX fails at once with ERANGE; the kernel reports that.)
    /// </summary>
    private void CheckCanComplete(ReadOnlySpan<SemaphoreOperation> operations)
    {
        if (operations.Length == 1)
        {
            if (operations[0].Delta == short.MinValue)
            {
                throw SemaphoreErrors.ImpossibleOperations(Call(SemopName), operations[0].Index, -short.MinValue, zeroWait: false);
            }

            return;
        }

        for (int first = 0; first < operations.Length; first++)
        {
            int index = operations[first].Index;
            if (IndexSeenBefore(operations, first))
            {
                continue;
            }

            // The starting values that let every operation on this semaphore so far happen: lowest..highest.
            int lowest = 0, highest = Sem.SEMVMX, change = 0;
            bool waitsForZero = false;
            for (int i = first; i < operations.Length; i++)
            {
                if (operations[i].Index != index)
                {
                    continue;
                }

                int delta = operations[i].Delta;
                if (delta == 0)
                {
                    waitsForZero = true;
                    lowest = Math.Max(lowest, -change);
                    highest = Math.Min(highest, -change);
                }
                else
                {
                    change += delta;
                    lowest = Math.Max(lowest, -change);
                }

                if (lowest > highest)
                {
                    throw SemaphoreErrors.ImpossibleOperations(Call(SemopName), index, lowest, waitsForZero);
                }
            }
        }
    }

    private static bool IndexSeenBefore(ReadOnlySpan<SemaphoreOperation> operations, int position)
    {
        for (int i = 0; i < position; i++)
        {
            if (operations[i].Index == operations[position].Index)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The one place that calls semop/semtimedop. Returns false only when an operation has IPC_NOWAIT and would
    /// block; throws on timeout, cancellation and errors; retries EINTR.
    /// </summary>
    private unsafe bool Execute(Sem.sembuf* ops, int count, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        bool infinite = timeout is null || timeout.GetValueOrDefault() == Timeout.InfiniteTimeSpan;
        TimeSpan limit = infinite ? TimeSpan.Zero : CheckTimeout(timeout.GetValueOrDefault());
        cancellationToken.ThrowIfCancellationRequested();
        bool cancellable = cancellationToken.CanBeCanceled;
        bool plain = infinite && !cancellable;
        long start = plain ? 0 : Stopwatch.GetTimestamp();

        while (true)
        {
            int result;
            if (plain)
            {
                result = Sem.semop(Id, ops, (nuint)count);
            }
            else
            {
                TimeSpan slice = s_slice;
                if (!infinite)
                {
                    TimeSpan left = limit - Stopwatch.GetElapsedTime(start);
                    left = left < TimeSpan.Zero ? TimeSpan.Zero : left;
                    slice = cancellable && left > s_slice ? s_slice : left;
                }

                Sem.timespec ts;
                ts.tv_sec = slice.Ticks / TimeSpan.TicksPerSecond;
                ts.tv_nsec = slice.Ticks % TimeSpan.TicksPerSecond * 100;
                result = Sem.semtimedop(Id, ops, (nuint)count, &ts);
            }

            if (result == 0)
            {
                return true;
            }

            int errno = Errno.Last;
            if (errno == Errno.EINTR)
            {
                cancellationToken.ThrowIfCancellationRequested();
                continue;
            }

            if (errno == Errno.EAGAIN)
            {
                if (HasNoWait(ops, count))
                {
                    return false;
                }

                cancellationToken.ThrowIfCancellationRequested();
                if (!infinite && Stopwatch.GetElapsedTime(start) >= limit)
                {
                    ThrowTimeout(ops, count, limit);
                }

                continue;
            }

            ThrowOperationFailed(errno, plain ? SemopName : SemtimedopName);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private unsafe void ThrowTimeout(Sem.sembuf* ops, int count, TimeSpan limit) =>
        throw SemaphoreErrors.Timeout(Call(SemtimedopName), Describe(count, ops[0].sem_num, ops[0].sem_op), limit);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowOperationFailed(int errno, string operation)
    {
        // EINVAL is a removed set or a malformed call: the set exists if a stat answers, or is merely unreadable.
        bool exists = errno != Errno.EINVAL || SemControl.TryStatMetadata(Id, out _, out int statErrno) || statErrno == Errno.EACCES;
        throw SemaphoreErrors.ForOperation(errno, Call(operation), exists, TryGetCount());
    }

    private static string Describe(int count, int index, int delta)
    {
        if (count > 1)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{count} atomic operations, the first on semaphore {index}");
        }

        return delta switch
        {
            > 0 => string.Create(CultureInfo.InvariantCulture, $"release {delta} on semaphore {index}"),
            < 0 => string.Create(CultureInfo.InvariantCulture, $"wait for {-delta} on semaphore {index}"),
            _ => string.Create(CultureInfo.InvariantCulture, $"wait for zero on semaphore {index}"),
        };
    }

    private static unsafe bool HasNoWait(Sem.sembuf* ops, int count)
    {
        for (int i = 0; i < count; i++)
        {
            if ((ops[i].sem_flg & Ipc.IPC_NOWAIT) != 0)
            {
                return true;
            }
        }

        return false;
    }

    private static Sem.sembuf MakeOp(int index, short delta, bool undo, bool noWait) => new()
    {
        sem_num = (ushort)index,
        sem_op = delta,
        sem_flg = (short)((undo ? Sem.SEM_UNDO : 0) | (noWait ? Ipc.IPC_NOWAIT : 0)),
    };
}
