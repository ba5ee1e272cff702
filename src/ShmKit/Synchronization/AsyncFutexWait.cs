using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace ShmKit;

/// <summary>
/// One pending asynchronous futex wait: the pooled <see cref="IValueTaskSource{TResult}"/> behind
/// <see cref="FutexWaitThread.WaitAsync"/>. Completed only by the thread that waits for it (a shared waiter thread, or
/// the dedicated thread of the fallback), and only after the word is out of that thread's futex_waitv vector, so the
/// caller's mapping may be released as soon as the ValueTask completes. Continuations run asynchronously (on the
/// thread pool, or the captured context), never on the waiter thread.
/// </summary>
internal sealed unsafe class AsyncFutexWait : IValueTaskSource<FutexWaitResult>
{
    internal const int CancelRequested = 1;
    internal const int InterruptRequested = 2;

    private static readonly Action<object?> s_onCancel = static state => ((AsyncFutexWait)state!).Request(CancelRequested);
    private static readonly Action<object?> s_onGone = static state => ((AsyncFutexWait)state!).Request(InterruptRequested);

    private ManualResetValueTaskSourceCore<FutexWaitResult> _core;
    private CancellationTokenRegistration _cancellation;
    private LivenessWatch? _watch;
    private SafeHandle? _mapping;
    private CancellationToken _token;

    // Set by the cancellation callback and the liveness callback (any thread, Interlocked.Or); read and cleared by
    // the owning waiter thread, which is woken through its control word after each request.
    private int _requests;

    internal AsyncFutexWait()
    {
        _core.RunContinuationsAsynchronously = true;
    }

    /// <summary>The shared word (mapped until completion: the caller's mapping is AddRef'd).</summary>
    internal int* Word { get; private set; }

    internal int Expected { get; private set; }

    internal long Deadline { get; private set; }

    /// <summary>The thread that waits for this source (set before any callback can run).</summary>
    internal FutexWaitThread.IWaiter? Owner { get; set; }

    /// <summary>Requests posted by callbacks (CancelRequested | InterruptRequested).</summary>
    internal int Requests => Volatile.Read(ref _requests);

    internal short Version => _core.Version;

    /// <summary>Fills a rented source; AddRefs the mapping (throws ObjectDisposedException if it is closed).</summary>
    internal void Prepare(int* word, int expected, long deadline, SafeHandle? mapping)
    {
        if (mapping is not null)
        {
            bool added = false;
            mapping.DangerousAddRef(ref added);
            _mapping = mapping;
        }

        Word = word;
        Expected = expected;
        Deadline = deadline;
        _requests = 0;
    }

    /// <summary>Registers the token and the liveness watch (after <see cref="Owner"/> is set, before the owner sees the source).</summary>
    internal void Register(ProcessIdentity? watchProcess, LivenessToken? watchToken, CancellationToken cancellationToken)
    {
        _token = cancellationToken;
        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(s_onCancel, this);
        }

        if (watchProcess is ProcessIdentity process)
        {
            _watch = LivenessMonitor.Watch(process, watchToken, s_onGone, this);
        }
    }

    /// <summary>
    /// Completes the wait (on the owning thread, after the word left its vector): ends the registrations (waiting
    /// for a callback in progress), releases the mapping, then publishes the result.
    /// </summary>
    internal void Complete(FutexWaitResult result, Exception? error = null)
    {
        _cancellation.Dispose();
        _cancellation = default;
        _watch?.Dispose();
        _watch = null;
        _mapping?.DangerousRelease();
        _mapping = null;
        Owner = null;
        Word = null;
        CancellationToken token = _token;
        _token = default;
        if (error is not null)
        {
            _core.SetException(error);
        }
        else if (result == FutexWaitResult.Cancelled)
        {
            _core.SetException(new OperationCanceledException(token));
        }
        else
        {
            _core.SetResult(result);
        }
    }

    /// <inheritdoc/>
    public FutexWaitResult GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            _core.Reset();
            FutexWaitThread.Return(this);
        }
    }

    /// <inheritdoc/>
    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    /// <inheritdoc/>
    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void Request(int request)
    {
        Interlocked.Or(ref _requests, request);
        Owner?.Nudge();
    }
}
