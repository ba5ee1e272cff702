using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ShmKit;

/// <summary>
/// Asynchronous futex waits that block no thread-pool thread: the async half of ShmKit's primitives
/// (<c>LockAsync</c>, <c>WaitAsync</c>). A wait that cannot complete at once is registered with a shared waiter thread
/// that sleeps in futex_waitv on up to 127 words (entry 0 is its private control word, bumped and woken to add and
/// remove registrations), and completes a pooled <see cref="System.Threading.Tasks.Sources.IValueTaskSource{TResult}"/> when the word may have
/// changed, at the deadline, on cancellation, or when a watched process dies. More threads are started as needed;
/// an idle waiter thread ends after <see cref="IdleLinger"/>.
/// </summary>
/// <remarks>
/// <para><b>Memory</b>: the word must stay mapped until the ValueTask completes. Pass the mapping's SafeHandle as
/// <c>mapping</c>: it is AddRef'd for the registration and released only after the word has left the waiter's
/// vector (before completion), so disposing the attachment early cannot unmap it under the kernel. Without a handle
/// the caller guarantees it (for example by holding its own lease across the await).</para>
/// <para><b>Completion</b>: continuations run asynchronously (RunContinuationsAsynchronously), never on the waiter
/// thread. Cancellation completes the ValueTask with <see cref="OperationCanceledException"/>; other outcomes are
/// results (Woken, ValueChanged, TimedOut, Interrupted = the watched process died). Like every ValueTask, the result
/// must be awaited (or read) exactly once: the source goes back to the pool then.</para>
/// <para><b>Fallback only</b>: without futex_waitv (ENOSYS/EPERM), each wait gets a dedicated thread that sleeps in
/// slices of at most 100 ms, checking cancellation and the watch between them.</para>
/// </remarks>
internal static unsafe partial class FutexWaitThread
{
    /// <summary>Words per shared waiter thread: futex_waitv takes 128 entries, one is the control word.</summary>
    internal const int WordsPerThread = Interop.FutexCalls.FUTEX_WAITV_MAX - 1;

    private const int MaxPooled = 256;

    private static readonly Lock s_gate = new();
    private static readonly List<SharedWaiter> s_threads = []; // guarded by s_gate
    private static readonly Stack<AsyncFutexWait> s_pool = new(); // guarded by s_pool
    private static long s_idleLingerTicks = Stopwatch.Frequency;
    private static int s_threadCount; // Interlocked: shared and dedicated waiter threads alive

    /// <summary>What a source's owner offers its callbacks.</summary>
    internal interface IWaiter
    {
        /// <summary>Wakes the waiting thread so it looks at its sources' requests (any thread; never blocks).</summary>
        public void Nudge();
    }

    /// <summary>How long an idle shared waiter thread stays before it ends (default 1 s).</summary>
    internal static TimeSpan IdleLinger
    {
        get => Stopwatch.GetElapsedTime(0, Volatile.Read(ref s_idleLingerTicks));
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            Volatile.Write(ref s_idleLingerTicks, (long)(value.TotalSeconds * Stopwatch.Frequency));
        }
    }

    /// <summary>Waiter threads alive (shared and dedicated), for tests and diagnostics.</summary>
    internal static int ThreadCount => Volatile.Read(ref s_threadCount);

    /// <summary>Shared waiter threads that hold at least one wait now.</summary>
    internal static int BusyThreadCount
    {
        get
        {
            lock (s_gate)
            {
                return s_threads.Count(t => t.Reserved > 0);
            }
        }
    }

    /// <summary>Waits registered now (all shared threads).</summary>
    internal static int PendingCount
    {
        get
        {
            lock (s_gate)
            {
                int n = 0;
                foreach (SharedWaiter t in s_threads)
                {
                    n += t.Reserved;
                }

                return n;
            }
        }
    }

    /// <summary>
    /// Completes when <c>*word</c> may no longer equal <paramref name="expected"/> (Woken, ValueChanged), at
    /// <paramref name="deadline"/> (TimedOut), when <paramref name="watchProcess"/> dies (Interrupted), or with
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> is cancelled. Completes
    /// synchronously, without allocating, when the word already differs or the deadline has passed.
    /// </summary>
    /// <param name="word">A 4-byte aligned word in shared memory.</param>
    /// <param name="expected">The value the caller decided to sleep on.</param>
    /// <param name="deadline">An absolute <see cref="MonotonicClock"/> deadline, or Infinite.</param>
    /// <param name="mapping">The handle that keeps the word mapped (AddRef'd until completion), or null.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <param name="watchProcess">A process whose death ends the wait (the owner of a lock), or null.</param>
    /// <param name="watchToken">Its SEM_UNDO token (needed when it is in another pid namespace).</param>
    internal static ValueTask<FutexWaitResult> WaitAsync(
        int* word,
        int expected,
        long deadline,
        SafeHandle? mapping,
        CancellationToken cancellationToken,
        ProcessIdentity? watchProcess = null,
        LivenessToken? watchToken = null)
    {
        if (((nint)word & 3) != 0)
        {
            // Checked here: the kernel's EINVAL would fail every wait that shares the waiter thread's futex_waitv.
            throw new ArgumentException(FormattableString.Invariant($"A futex word must be 4-byte aligned; 0x{(nint)word:x} is not."), nameof(word));
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<FutexWaitResult>(cancellationToken);
        }

        if (Volatile.Read(ref *word) != expected)
        {
            return new ValueTask<FutexWaitResult>(FutexWaitResult.ValueChanged);
        }

        if (deadline != MonotonicClock.Infinite && MonotonicClock.Now >= deadline)
        {
            return new ValueTask<FutexWaitResult>(FutexWaitResult.TimedOut);
        }

        AsyncFutexWait source = Rent();
        SharedWaiter? reserved = null;
        try
        {
            source.Prepare(word, expected, deadline, mapping);
            if (Futex.IsWaitvAvailable)
            {
                reserved = Reserve();
                source.Owner = reserved;
                source.Register(watchProcess, watchToken, cancellationToken);
                reserved.Add(source); // from here on only the waiter thread completes the source
                reserved = null;
            }
            else
            {
                var owner = new DedicatedWaiter(source);
                source.Owner = owner;
                source.Register(watchProcess, watchToken, cancellationToken);
                owner.Start();
            }
        }
        catch (Exception e)
        {
            if (reserved is not null)
            {
                lock (s_gate)
                {
                    reserved.Reserved--;
                }
            }

            source.Complete(FutexWaitResult.Woken, e);
        }

        return new ValueTask<FutexWaitResult>(source, source.Version);
    }

    /// <summary>Returns a source to the pool (from its GetResult).</summary>
    internal static void Return(AsyncFutexWait source)
    {
        lock (s_pool)
        {
            if (s_pool.Count < MaxPooled)
            {
                s_pool.Push(source);
            }
        }
    }

    private static AsyncFutexWait Rent()
    {
        lock (s_pool)
        {
            if (s_pool.TryPop(out AsyncFutexWait? source))
            {
                return source;
            }
        }

        return new AsyncFutexWait();
    }

    /// <summary>A shared waiter thread with a free slot (one is started when all are full).</summary>
    private static SharedWaiter Reserve()
    {
        lock (s_gate)
        {
            foreach (SharedWaiter t in s_threads)
            {
                if (t.Reserved < WordsPerThread)
                {
                    t.Reserved++;
                    return t;
                }
            }

            SharedWaiter created = SharedWaiter.Start();
            s_threads.Add(created);
            created.Reserved++;
            return created;
        }
    }

    /// <summary>The fallback without futex_waitv: one thread per wait, sleeping in slices of at most 100 ms.</summary>
    private sealed class DedicatedWaiter(AsyncFutexWait source) : IWaiter
    {
        private int _nudges; // bumped by Nudge; read between slices (the slice bounds the latency)

        public void Nudge() => Interlocked.Increment(ref _nudges);

        internal void Start() =>
            BackgroundThreads.Start(static state => ((DedicatedWaiter)state!).Run(), this, "ShmKit futex waiter (fallback)", ref s_threadCount);

        private void Run()
        {
            try
            {
                FutexWaitResult result;
                try
                {
                    result = WaitInSlices();
                }
                catch (Exception e)
                {
                    source.Complete(FutexWaitResult.Woken, e);
                    return;
                }

                source.Complete(result);
            }
            finally
            {
                Interlocked.Decrement(ref s_threadCount);
            }
        }

        private FutexWaitResult WaitInSlices()
        {
            while (true)
            {
                int requests = source.Requests;
                if ((requests & AsyncFutexWait.CancelRequested) != 0)
                {
                    return FutexWaitResult.Cancelled;
                }

                if ((requests & AsyncFutexWait.InterruptRequested) != 0)
                {
                    return FutexWaitResult.Interrupted;
                }

                long now = MonotonicClock.Now;
                if (now >= source.Deadline)
                {
                    return FutexWaitResult.TimedOut;
                }

                long slice = MonotonicClock.Slice(now, Futex.FallbackSliceMilliseconds, source.Deadline);
                FutexWaitResult result = Futex.Wait(source.Word, source.Expected, slice);
                if (result != FutexWaitResult.TimedOut)
                {
                    return result;
                }
            }
        }
    }
}
