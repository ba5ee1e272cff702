using System.Runtime.CompilerServices;

namespace ShmKit;

internal static partial class ShmWaitCore
{
    /// <summary>
    /// The asynchronous wait, after <see cref="TrySpin"/> found that the operation cannot complete at once: each sleep
    /// is a registration with <see cref="FutexWaitThread"/> (which also watches the owner), so no thread-pool thread
    /// blocks. Completes with (true, the operation) when it completed, (false, …) at the deadline; cancellation is an
    /// <see cref="OperationCanceledException"/>. The state machine is pooled (PoolingAsyncValueTaskMethodBuilder).
    /// </summary>
    /// <remarks>
    /// The caller keeps the mapping referenced until the returned task completes (FutexWaitThread is passed no handle
    /// of its own). <see cref="IShmWaitOperation.Leave"/> has run when it completes without completing the operation.
    /// </remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal static async ValueTask<(bool Completed, TOp Operation)> WaitAsync<TOp>(TOp op, long deadline, CancellationToken cancellationToken)
        where TOp : struct, IShmWaitOperation
    {
        bool completed = false;
        try
        {
            int unwatchable = 0;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (deadline != MonotonicClock.Infinite && MonotonicClock.Now >= deadline)
                {
                    completed = op.TryComplete();
                    return (completed, op);
                }

                WatchTarget target = op.GetWatchTarget();
                if (target.Kind == WatchTargetKind.Dead)
                {
                    if (!op.OnOwnerGone(target))
                    {
                        unwatchable = target.Key;
                    }

                    if (op.TryComplete())
                    {
                        completed = true;
                        return (true, op);
                    }

                    continue;
                }

                if (target.Kind == WatchTargetKind.Process && target.Key == unwatchable)
                {
                    target = WatchTarget.None; // its watch fired but it was not confirmed dead: sleep without it
                }

                if (!StartSleep(ref op, target, deadline, cancellationToken, out ValueTask<FutexWaitResult> pending))
                {
                    if (op.TryComplete())
                    {
                        completed = true;
                        return (true, op);
                    }

                    continue;
                }

                FutexWaitResult result;
                try
                {
                    result = await pending.ConfigureAwait(false);
                }
                finally
                {
                    op.EndSleep();
                }

                if (result == FutexWaitResult.Interrupted && target.Kind == WatchTargetKind.Process && !op.OnOwnerGone(target))
                {
                    unwatchable = target.Key;
                }

                if (op.TryComplete())
                {
                    completed = true;
                    return (true, op);
                }
            }
        }
        finally
        {
            if (!completed)
            {
                op.Leave();
            }
        }
    }

    /// <summary>
    /// <see cref="WaitAsync"/> for a primitive whose caller took a reference on the mapping (<paramref name="binding"/>'s
    /// Enter) before <see cref="TrySpin"/>: gives it back when the wait ends. True when the operation completed.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal static async ValueTask<bool> WaitAndExitAsync<TOp>(ShmStructureBinding binding, TOp op, long deadline, CancellationToken cancellationToken)
        where TOp : struct, IShmWaitOperation
    {
        try
        {
            return (await WaitAsync(op, deadline, cancellationToken).ConfigureAwait(false)).Completed;
        }
        finally
        {
            binding.Exit();
        }
    }

    /// <summary>Registers the sleeper and starts the async futex wait (false: the state changed; nothing registered).</summary>
    private static unsafe bool StartSleep<TOp>(ref TOp op, in WatchTarget target, long deadline, CancellationToken cancellationToken, out ValueTask<FutexWaitResult> pending)
        where TOp : struct, IShmWaitOperation
    {
        pending = default;
        if (!op.BeginSleep(out int* word, out int expected))
        {
            return false;
        }

        try
        {
            pending = target.Kind == WatchTargetKind.Process
                ? FutexWaitThread.WaitAsync(word, expected, deadline, null, cancellationToken, target.Process, target.Token)
                : FutexWaitThread.WaitAsync(word, expected, deadline, null, cancellationToken);
            return true;
        }
        catch
        {
            op.EndSleep();
            throw;
        }
    }
}
