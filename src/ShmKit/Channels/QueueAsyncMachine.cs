using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>What a queue handle offers the async machinery: one attempt, and the registration of a wait.</summary>
/// <typeparam name="TResult">What the operation returns.</typeparam>
internal interface IQueueAsyncSide<TResult>
{
    /// <summary>The ring, for the futex wait.</summary>
    public QueueRing Ring { get; }

    /// <summary>True once the handle is disposed.</summary>
    public bool IsDisposed { get; }

    /// <summary>Tries to finish the operation now (no waiting); also called once more after a timeout.</summary>
    public bool TryFinish(in QueueAsyncRequest request, out TResult result);

    /// <summary>What the operation returns at its deadline (false for the WaitTo… calls).</summary>
    public TResult TimedOut();

    /// <summary>Registers in the right eventcount; <see cref="AsyncWaitTicket.Ready"/> when the condition holds already.</summary>
    public AsyncWaitTicket BeginAsyncWait(in QueueAsyncRequest request, long deadline);

    /// <summary>Withdraws the registration (if the handle still lives).</summary>
    public void EndAsyncWait(in AsyncWaitTicket ticket);

    /// <summary>The token Dispose cancels (used when the caller's token cannot be cancelled).</summary>
    public CancellationToken DisposeToken();

    /// <summary>The exception for an operation ended by Dispose.</summary>
    public ObjectDisposedException Disposed();
}

/// <summary>
/// What an async queue operation needs: with <paramref name="Copy"/> false it only waits (for room for
/// <paramref name="Length"/> bytes, or for a message); with true it also moves the message (<paramref name="Message"/>
/// in, or out to <paramref name="Destination"/>).
/// </summary>
internal readonly record struct QueueAsyncRequest(bool Copy, int Length, ReadOnlyMemory<byte> Message, Memory<byte> Destination);

/// <summary>The builder a <see cref="QueueAsyncMachine{TSide, TResult, TBuilder}"/> completes (generic or not).</summary>
internal interface IQueueAsyncBuilder<TResult>
{
    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion
        where TStateMachine : IAsyncStateMachine;

    public void SetResult(TResult result);

    public void SetException(Exception exception);

    public void SetStateMachine(IAsyncStateMachine stateMachine);
}

/// <summary>The pooling builder of a ValueTask&lt;TResult&gt;.</summary>
internal struct ResultBuilder<TResult> : IQueueAsyncBuilder<TResult>
{
    internal PoolingAsyncValueTaskMethodBuilder<TResult> Inner;

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion
        where TStateMachine : IAsyncStateMachine => Inner.AwaitUnsafeOnCompleted(ref awaiter, ref stateMachine);

    public void SetResult(TResult result) => Inner.SetResult(result);

    public void SetException(Exception exception) => Inner.SetException(exception);

    public void SetStateMachine(IAsyncStateMachine stateMachine) => Inner.SetStateMachine(stateMachine);
}

/// <summary>The pooling builder of a plain ValueTask (the result is dropped).</summary>
internal struct VoidBuilder : IQueueAsyncBuilder<bool>
{
    internal PoolingAsyncValueTaskMethodBuilder Inner;

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion
        where TStateMachine : IAsyncStateMachine => Inner.AwaitUnsafeOnCompleted(ref awaiter, ref stateMachine);

    public void SetResult(bool result) => Inner.SetResult();

    public void SetException(Exception exception) => Inner.SetException(exception);

    public void SetStateMachine(IAsyncStateMachine stateMachine) => Inner.SetStateMachine(stateMachine);
}

/// <summary>
/// The asynchronous wait loop of the queue handles, written out as the struct state machine the compiler generates
/// for an optimized build: try → register in the eventcount → await the shared futex waiter thread → withdraw →
/// try again. Written by hand so that it is a struct in every build: with <see cref="PoolingAsyncValueTaskMethodBuilder{TResult}"/>
/// its box is pooled, so a wait allocates nothing, also in Debug builds (where compiler-generated state machines are
/// classes, one allocation per call).
/// </summary>
internal struct QueueAsyncMachine<TSide, TResult, TBuilder> : IAsyncStateMachine
    where TSide : class, IQueueAsyncSide<TResult>
    where TBuilder : struct, IQueueAsyncBuilder<TResult>
{
    internal TBuilder Builder;
    internal TSide Side;
    internal QueueAsyncRequest Request;
    internal long Deadline;
    internal CancellationToken CallerToken;
    internal int State;

    private CancellationToken _waitToken;
    private AsyncWaitTicket _ticket;
    private ConfiguredValueTaskAwaitable<FutexWaitResult>.ConfiguredValueTaskAwaiter _awaiter;

    public void MoveNext()
    {
        TResult result;
        try
        {
            bool resuming = State == 0;
            if (!resuming)
            {
                _waitToken = CallerToken.CanBeCanceled ? CallerToken : Side.DisposeToken();
            }

            while (true)
            {
                if (!resuming)
                {
                    if (Side.TryFinish(Request, out result))
                    {
                        break;
                    }

                    _ticket = Side.BeginAsyncWait(Request, Deadline);
                    if (_ticket.Ready)
                    {
                        continue;
                    }

#pragma warning disable CA2012 // consumed exactly once: by this awaiter, as compiler-generated code does
                    _awaiter = QueueAsyncWait.Start(Side.Ring, _ticket, Deadline, _waitToken).ConfigureAwait(false).GetAwaiter();
#pragma warning restore CA2012
                    if (!_awaiter.IsCompleted)
                    {
                        State = 0;
                        Builder.AwaitUnsafeOnCompleted(ref _awaiter, ref this);
                        return;
                    }
                }

                resuming = false;
                State = -1;
                FutexWaitResult waited;
                try
                {
                    waited = _awaiter.GetResult();
                }
                catch (OperationCanceledException) when (!CallerToken.IsCancellationRequested && Side.IsDisposed)
                {
                    throw Side.Disposed();
                }
                finally
                {
                    _awaiter = default;
                    Side.EndAsyncWait(_ticket);
                }

                if (waited == FutexWaitResult.TimedOut)
                {
                    if (!Side.TryFinish(Request, out result))
                    {
                        result = Side.TimedOut();
                    }

                    break;
                }
            }
        }
        catch (Exception e)
        {
            State = -2;
            Side = null!;
            Builder.SetException(e);
            return;
        }

        State = -2;
        Side = null!;
        Builder.SetResult(result);
    }

    public void SetStateMachine(IAsyncStateMachine stateMachine) => Builder.SetStateMachine(stateMachine);
}

/// <summary>Starts the machines.</summary>
internal static class QueueAsync
{
    internal static ValueTask<TResult> Run<TSide, TResult>(TSide side, in QueueAsyncRequest request, long deadline, CancellationToken cancellationToken)
        where TSide : class, IQueueAsyncSide<TResult>
    {
        var machine = new QueueAsyncMachine<TSide, TResult, ResultBuilder<TResult>>
        {
            Builder = new ResultBuilder<TResult> { Inner = PoolingAsyncValueTaskMethodBuilder<TResult>.Create() },
            Side = side,
            Request = request,
            Deadline = deadline,
            CallerToken = cancellationToken,
            State = -1,
        };
        machine.Builder.Inner.Start(ref machine);
        return machine.Builder.Inner.Task;
    }

    internal static ValueTask RunVoid<TSide>(TSide side, in QueueAsyncRequest request, long deadline, CancellationToken cancellationToken)
        where TSide : class, IQueueAsyncSide<bool>
    {
        var machine = new QueueAsyncMachine<TSide, bool, VoidBuilder>
        {
            Builder = new VoidBuilder { Inner = PoolingAsyncValueTaskMethodBuilder.Create() },
            Side = side,
            Request = request,
            Deadline = deadline,
            CallerToken = cancellationToken,
            State = -1,
        };
        machine.Builder.Inner.Start(ref machine);
        return machine.Builder.Inner.Task;
    }
}
