namespace ShmKit;

/// <summary>
/// One subscription to a watched process, from <see cref="LivenessMonitor.Watch(in ProcessIdentity, LivenessToken?, FutexInterrupt)"/>.
/// Fires at most once — when the process dies, or can no longer be watched (its token set was removed) — by
/// signalling a <see cref="FutexInterrupt"/> or calling a callback. Dispose ends it: after Dispose returns the watch
/// never fires (a firing in progress on another thread is waited for). Dispose from any thread, any number of times.
/// </summary>
internal sealed class LivenessWatch : IDisposable
{
    private readonly FutexInterrupt? _interrupt;
    private readonly Action<object?>? _callback;
    private readonly object? _state;
    private bool _disposed; // guarded by lock (this)
    private volatile bool _fired;

    internal LivenessWatch(LivenessMonitor.Entry? entry, LivenessWatchMethod method, FutexInterrupt? interrupt, Action<object?>? callback, object? state)
    {
        Entry = entry;
        Method = method;
        _interrupt = interrupt;
        _callback = callback;
        _state = state;
        interrupt?.Arm();
    }

    /// <summary>How the process is watched.</summary>
    internal LivenessWatchMethod Method { get; }

    /// <summary>True once the watch has fired.</summary>
    internal bool HasFired => _fired;

    /// <summary>The monitor's shared entry for the process (null for None and AlreadyDead).</summary>
    internal LivenessMonitor.Entry? Entry { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (this)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        if (Entry is not null)
        {
            LivenessMonitor.Unsubscribe(this);
        }

        _interrupt?.Disarm();
    }

    /// <summary>Fires unless disposed. Runs on the monitor's thread (or on the subscriber's, for AlreadyDead).</summary>
    internal void Fire()
    {
        lock (this)
        {
            if (_disposed || _fired)
            {
                return;
            }

            _fired = true;
            if (_interrupt is not null)
            {
                _interrupt.Signal();
            }
            else
            {
                try
                {
                    _callback!(_state);
                }
                catch (Exception e)
                {
                    // A callback must not take the monitor down with it (nor the process, on the monitor's thread).
                    System.Diagnostics.Trace.TraceError($"ShmKit liveness callback failed: {e}");
                }
            }
        }
    }
}
