using System.Runtime.CompilerServices;
using ShmKit.Interop;

namespace ShmKit;

/// <summary>
/// Futex waits and wakes on 32-bit words in shared memory (System V segments): the kernel half of every ShmKit
/// lock, event and queue. Words are keyed by the kernel by (shmem inode, page, offset), so a wait in one process is
/// woken by a wake in another whatever address each attached the segment at; FUTEX_PRIVATE_FLAG is therefore never
/// set on a shared word.
/// </summary>
/// <remarks>
/// <para><b>Deadlines</b> are absolute <see cref="MonotonicClock"/> values (FUTEX_WAIT_BITSET with
/// FUTEX_BITSET_MATCH_ANY measures an absolute CLOCK_MONOTONIC timeout), so retrying after EINTR never stretches a
/// timeout. <see cref="MonotonicClock.Infinite"/> waits without one.</para>
/// <para><b>Cancellation</b> wakes the waiter through the futex: a cancellable wait is futex_waitv (Linux 5.16) on
/// {the shared word == expected, the thread's private <see cref="FutexInterrupt"/> word == 0}; the token's callback
/// sets the private word and wakes only it. An idle cancellable waiter makes no wake-ups. <b>Fallback only</b>: where
/// futex_waitv is missing (ENOSYS) or denied by seccomp (EPERM), detected once, a cancellable wait sleeps in slices of
/// at most 100 ms and checks the token and the interrupt between them.</para>
/// <para><b>Memory</b>: the word must stay mapped for the whole wait (the kernel pins nothing while a thread
/// sleeps): callers hold a reference on the mapping until the call returns. A wake after the mapping is gone returns
/// EFAULT and is ignored (folly does the same; glibc BZ 12674).</para>
/// <para>The caller always re-reads the word after a wait: <see cref="FutexWaitResult.Woken"/> may be spurious.</para>
/// </remarks>
internal static unsafe class Futex
{
    /// <summary>Longest sleep of the fallback without futex_waitv.</summary>
    internal const int FallbackSliceMilliseconds = 100;

    private const int WaitvUnknown = 0;
    private const int WaitvSupported = 1;
    private const int WaitvUnsupported = 2;

    private static readonly Action<object?> s_cancel = static state => ((FutexInterrupt)state!).SignalCancelled();

    // Written once by the first futex_waitv call that learns the answer (any thread; benign race: every writer
    // writes the same value); read before each cancellable wait.
    private static int s_waitv;

    /// <summary>Test hook: behave as if futex_waitv were unavailable (the slice fallback).</summary>
    internal static bool ForceWaitvFallback { get; set; }

    /// <summary>False once futex_waitv has failed with ENOSYS or EPERM (or while <see cref="ForceWaitvFallback"/>).</summary>
    internal static bool IsWaitvAvailable => !ForceWaitvFallback && Volatile.Read(ref s_waitv) != WaitvUnsupported;

    /// <summary>
    /// Sleeps while <c>*word == expected</c>, until woken, until <paramref name="deadline"/>, or (only if the thread's
    /// interrupt is armed) until a watched process dies. EINTR is retried against the same deadline.
    /// </summary>
    /// <param name="word">A 4-byte aligned word in shared memory, mapped for the whole call.</param>
    /// <param name="expected">The value the caller decided to sleep on (the kernel compares atomically).</param>
    /// <param name="deadline">An absolute <see cref="MonotonicClock"/> deadline, or <see cref="MonotonicClock.Infinite"/>.</param>
    /// <returns>Woken, ValueChanged, TimedOut, or Interrupted.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static FutexWaitResult Wait(int* word, int expected, long deadline)
    {
        FutexInterrupt? armed = FutexInterrupt.CurrentIfArmed;
        return armed is null ? WaitCore(word, expected, deadline, 0) : WaitInterruptible(word, expected, deadline, armed, default);
    }

    /// <summary>
    /// <see cref="Wait(int*, int, long)"/> that also ends with <see cref="FutexWaitResult.Cancelled"/> when
    /// <paramref name="cancellationToken"/> is cancelled (already cancelled: at once, without a system call). The
    /// shared word is never written.
    /// </summary>
    internal static FutexWaitResult Wait(int* word, int expected, long deadline, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            return Wait(word, expected, deadline);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return FutexWaitResult.Cancelled;
        }

        return WaitInterruptible(word, expected, deadline, FutexInterrupt.Current, cancellationToken);
    }

    /// <summary>
    /// <see cref="Wait(int*, int, long, CancellationToken)"/> for callers that leave on a timeout and on cancellation:
    /// false when <paramref name="deadline"/> passed; <see cref="OperationCanceledException"/> when the token was
    /// cancelled; true otherwise (woken, value changed or interrupted: re-read the word and the watched process).
    /// </summary>
    internal static bool TryWait(int* word, int expected, long deadline, CancellationToken cancellationToken) =>
        Wait(word, expected, deadline, cancellationToken) switch
        {
            FutexWaitResult.TimedOut => false,
            FutexWaitResult.Cancelled => throw new OperationCanceledException(cancellationToken),
            _ => true,
        };

    /// <summary>Sleeps on a word in this process's private memory (FUTEX_PRIVATE_FLAG). Never for shared words.</summary>
    internal static FutexWaitResult WaitPrivate(int* word, int expected, long deadline) =>
        WaitCore(word, expected, deadline, FutexCalls.FUTEX_PRIVATE_FLAG);

    /// <summary>
    /// Wakes up to <paramref name="count"/> waiters of a shared word (1, or int.MaxValue for all). Returns how many
    /// were woken; an unmapped word (EFAULT: a waker that detached already) counts as 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Wake(int* word, int count)
    {
        int woken = FutexCalls.futex(word, FutexCalls.FUTEX_WAKE, count, null, null, 0);
        return woken >= 0 ? woken : WakeFailed(word);
    }

    /// <summary>Wakes every waiter of a shared word.</summary>
    internal static int WakeAll(int* word) => Wake(word, int.MaxValue);

    /// <summary>Wakes waiters of a private word (one waited on with <see cref="WaitPrivate"/>).</summary>
    internal static int WakePrivate(int* word, int count)
    {
        int woken = FutexCalls.futex(word, FutexCalls.FUTEX_WAKE | FutexCalls.FUTEX_PRIVATE_FLAG, count, null, null, 0);
        return woken >= 0 ? woken : WakeFailed(word);
    }

    /// <summary>Records that futex_waitv is unavailable (ENOSYS or EPERM); every later cancellable wait uses slices.</summary>
    internal static void MarkWaitvUnavailable() => Volatile.Write(ref s_waitv, WaitvUnsupported);

    /// <summary>Records that futex_waitv worked.</summary>
    internal static void MarkWaitvAvailable()
    {
        if (Volatile.Read(ref s_waitv) == WaitvUnknown)
        {
            Volatile.Write(ref s_waitv, WaitvSupported);
        }
    }

    private static int WakeFailed(int* word)
    {
        int errno = Errno.Last;
        if (errno == Errno.EFAULT)
        {
            return 0;
        }

        if (!Syscalls.IsSupportedArchitecture)
        {
            throw FutexErrors.UnsupportedArchitecture();
        }

        throw FutexErrors.ForWake(errno, (nint)word);
    }

    private static FutexWaitResult WaitCore(int* word, int expected, long deadline, int privateFlag)
    {
        Sem.timespec ts;
        Sem.timespec* timeout = null;
        if (deadline != MonotonicClock.Infinite)
        {
            MonotonicClock.ToTimespec(deadline, &ts);
            timeout = &ts;
        }

        while (true)
        {
            if (FutexCalls.futex(word, FutexCalls.FUTEX_WAIT_BITSET | privateFlag, expected, timeout, null, FutexCalls.FUTEX_BITSET_MATCH_ANY) == 0)
            {
                return FutexWaitResult.Woken;
            }

            switch (Errno.Last)
            {
                case Errno.EAGAIN:
                    return FutexWaitResult.ValueChanged;
                case Errno.ETIMEDOUT:
                    return FutexWaitResult.TimedOut;
                case Errno.EINTR:
                    continue;
                case int errno:
                    throw Syscalls.IsSupportedArchitecture
                        ? FutexErrors.ForWait(errno, (nint)word, "FUTEX_WAIT_BITSET")
                        : FutexErrors.UnsupportedArchitecture();
            }
        }
    }

    private static FutexWaitResult WaitInterruptible(int* word, int expected, long deadline, FutexInterrupt interrupt, CancellationToken cancellationToken)
    {
        interrupt.ClearCancelled();
        CancellationTokenRegistration registration = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(s_cancel, interrupt)
            : default;
        try
        {
            if (IsWaitvAvailable)
            {
                FutexWaitResult? result = WaitVector(word, expected, deadline, interrupt);
                if (result is FutexWaitResult r)
                {
                    return r;
                }
            }

            return WaitSlices(word, expected, deadline, interrupt, cancellationToken);
        }
        finally
        {
            // Waits for a callback that is running right now, so it never touches the interrupt of a later wait.
            registration.Dispose();
        }
    }

    /// <summary>The futex_waitv wait; null when futex_waitv turned out to be unavailable.</summary>
    private static FutexWaitResult? WaitVector(int* word, int expected, long deadline, FutexInterrupt interrupt)
    {
        FutexCalls.futex_waitv* vector = stackalloc FutexCalls.futex_waitv[2];
        vector[0] = new FutexCalls.futex_waitv { val = (uint)expected, uaddr = (ulong)word, flags = FutexCalls.FUTEX_32 };
        vector[1] = new FutexCalls.futex_waitv { val = 0, uaddr = (ulong)interrupt.Word, flags = FutexCalls.FUTEX_32 | FutexCalls.FUTEX_PRIVATE_FLAG };
        Sem.timespec ts;
        Sem.timespec* timeout = null;
        if (deadline != MonotonicClock.Infinite)
        {
            MonotonicClock.ToTimespec(deadline, &ts);
            timeout = &ts;
        }

        while (true)
        {
            int bits = interrupt.Bits;
            if ((bits & FutexInterrupt.CancelledBit) != 0)
            {
                return FutexWaitResult.Cancelled;
            }

            if ((bits & FutexInterrupt.SignalledBit) != 0)
            {
                return FutexWaitResult.Interrupted;
            }

            int index = FutexCalls.sys_futex_waitv(vector, 2, 0, timeout, FutexCalls.CLOCK_MONOTONIC);
            if (index == 0)
            {
                MarkWaitvAvailable();
                return FutexWaitResult.Woken;
            }

            if (index > 0)
            {
                continue; // the interrupt word: re-read its bits (a stale wake finds them clear and sleeps again)
            }

            switch (Errno.Last)
            {
                case Errno.EAGAIN:
                    if (interrupt.Bits == 0)
                    {
                        return FutexWaitResult.ValueChanged;
                    }

                    continue;
                case Errno.ETIMEDOUT:
                    return FutexWaitResult.TimedOut;
                case Errno.EINTR:
                    continue;
                case Errno.ENOSYS:
                case Errno.EPERM:
                    MarkWaitvUnavailable();
                    return null;
                case int errno:
                    throw Syscalls.IsSupportedArchitecture
                        ? FutexErrors.ForWait(errno, (nint)word, "futex_waitv")
                        : FutexErrors.UnsupportedArchitecture();
            }
        }
    }

    /// <summary>The fallback without futex_waitv: slices of at most 100 ms, checking the token and the interrupt.</summary>
    private static FutexWaitResult WaitSlices(int* word, int expected, long deadline, FutexInterrupt interrupt, CancellationToken cancellationToken)
    {
        while (true)
        {
            int bits = interrupt.Bits;
            if ((bits & FutexInterrupt.CancelledBit) != 0 || cancellationToken.IsCancellationRequested)
            {
                return FutexWaitResult.Cancelled;
            }

            if ((bits & FutexInterrupt.SignalledBit) != 0)
            {
                return FutexWaitResult.Interrupted;
            }

            long now = MonotonicClock.Now;
            if (now >= deadline)
            {
                return FutexWaitResult.TimedOut;
            }

            FutexWaitResult result = WaitCore(word, expected, MonotonicClock.Slice(now, FallbackSliceMilliseconds, deadline), 0);
            if (result != FutexWaitResult.TimedOut)
            {
                return result;
            }
        }
    }
}
