using System.Diagnostics;
using ShmKit.Interop;

namespace ShmKit;

/// <summary>
/// Tells local waiters when a process they wait on dies: the death detection of ShmKit's robust primitives. A waiter
/// about to sleep on a word owned by another process calls <see cref="Watch(in ProcessIdentity, LivenessToken?, FutexInterrupt)"/>
/// and disposes the watch when its wait ends; watches of one process share one pidfd (refcounted per identity).
/// </summary>
/// <remarks>
/// <para><b>Same pid namespace</b>: one monitor thread per process, started lazily, blocked in epoll_wait over the
/// pidfds of the watched processes (plus an eventfd to recompute its timeout). A pidfd becomes readable when its
/// process exits: 59–86 µs after SIGKILL here (target ≤ 10 ms).</para>
/// <para><b>Another pid namespace</b> (the recorded namespace inode differs, or /proc is not this namespace's): a
/// thread per watched process blocked in semtimedop wait-for-zero on its SEM_UNDO <see cref="LivenessToken"/>, in
/// slices of 1 s so it can be stopped (one wake-up per second per watched foreign process while watched; 0.2–0.35 ms
/// after the death here, target ≤ 100 ms). Without a token such a process cannot be watched
/// (<see cref="LivenessWatchMethod.None"/>).</para>
/// <para><b>Fallback only</b>: where pidfd_open is missing or denied, the monitor checks /proc (pid, start time,
/// zombie state) every 100 ms for each watched process.</para>
/// <para><b>Cost when idle</b>: nothing is watched unless a waiter is blocked on another process. After the last
/// watch of a process ends, its pidfd lingers for <see cref="IdleLinger"/> (so a lock contended again and again does
/// not reopen it per wait), then is closed; the monitor thread ends <see cref="IdleLinger"/> after its last entry.
/// With nothing watched there is no thread, no descriptor and no wake-up.</para>
/// <para><b>Firing</b> means "the process is dead, or can no longer be watched (its token set was removed)": the
/// subscriber re-checks. A watch of a process already dead fires before <c>Watch</c> returns, on the caller's
/// thread; otherwise on the monitor's thread. Callbacks must be short and must not block.</para>
/// </remarks>
internal static unsafe partial class LivenessMonitor
{
    private const int PollingIntervalMilliseconds = 100;
    private const int MaxEvents = 16;

    private static readonly Lock s_gate = new();

    // All state below is guarded by s_gate.
    private static readonly Dictionary<(ProcessIdentity Process, LivenessToken? Token), Entry> s_entries = [];
    private static readonly Dictionary<ulong, Entry> s_byId = [];
    private static readonly List<Entry> s_monitored = []; // Pidfd and Polling entries: the monitor thread's work
    private static ulong s_nextId = 1; // 0 is the eventfd's epoll data
    private static MonitorThread? s_monitor;
    private static long s_monitorWakeAt = MonotonicClock.Infinite;
    private static long s_idleLingerTicks = Stopwatch.Frequency;

    private static int s_threadCount; // Interlocked: the monitor thread plus token threads alive

    /// <summary>How long an unused pidfd and an idle monitor thread stay (default 1 s; 0 = close at once).</summary>
    internal static TimeSpan IdleLinger
    {
        get => Stopwatch.GetElapsedTime(0, Volatile.Read(ref s_idleLingerTicks));
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            Volatile.Write(ref s_idleLingerTicks, (long)(value.TotalSeconds * Stopwatch.Frequency));
        }
    }

    /// <summary>Test hook: behave as if pidfd_open were unavailable (the 100 ms polling fallback).</summary>
    internal static bool ForcePolling { get; set; }

    /// <summary>Threads of the monitor now alive (the epoll thread and the token threads), for tests and diagnostics.</summary>
    internal static int ThreadCount => Volatile.Read(ref s_threadCount);

    /// <summary>Processes now watched or lingering.</summary>
    internal static int EntryCount
    {
        get
        {
            lock (s_gate)
            {
                return s_entries.Count;
            }
        }
    }

    /// <summary>
    /// Watches <paramref name="process"/>: when it dies, <paramref name="interrupt"/> is signalled (a cancellable
    /// <see cref="Futex.Wait(int*, int, long, CancellationToken)"/> of that thread then returns
    /// <see cref="FutexWaitResult.Interrupted"/>; so does an uncancellable one while the interrupt is armed). The
    /// interrupt is armed until the watch is disposed. Arm before the last liveness check and the sleep: a death in
    /// between is not lost, because the signal is a value the kernel compares.
    /// </summary>
    /// <param name="process">The process, as recorded (pid, start time, pid namespace).</param>
    /// <param name="token">Its SEM_UNDO token, needed when it lives in another pid namespace.</param>
    /// <param name="interrupt">Usually <see cref="FutexInterrupt.Current"/>.</param>
    internal static LivenessWatch Watch(in ProcessIdentity process, LivenessToken? token, FutexInterrupt interrupt)
    {
        ArgumentNullException.ThrowIfNull(interrupt);
        return Subscribe(process, token, interrupt, null, null);
    }

    /// <summary>
    /// Watches <paramref name="process"/> and calls <paramref name="onGone"/>(<paramref name="state"/>) once when it
    /// dies (pass a static lambda and a state object: no closure per watch).
    /// </summary>
    internal static LivenessWatch Watch(in ProcessIdentity process, LivenessToken? token, Action<object?> onGone, object? state)
    {
        ArgumentNullException.ThrowIfNull(onGone);
        return Subscribe(process, token, null, onGone, state);
    }

    /// <summary>Called by <see cref="LivenessWatch.Dispose"/>.</summary>
    internal static void Unsubscribe(LivenessWatch watch)
    {
        Entry entry = watch.Entry!;
        bool nudge = false;
        lock (s_gate)
        {
            if (!entry.Subscribers.Remove(watch) || entry.Subscribers.Count > 0 || entry.Removed)
            {
                return;
            }

            long linger = Volatile.Read(ref s_idleLingerTicks);
            if (linger == 0 || entry.Dead)
            {
                RemoveLocked(entry);
                nudge = s_monitored.Count == 0; // let the monitor thread end
            }
            else
            {
                entry.LingerUntil = MonotonicClock.Now + linger;
                nudge = entry.Method != LivenessWatchMethod.SemaphoreToken && entry.LingerUntil < s_monitorWakeAt;
            }

            if (nudge)
            {
                s_monitor?.Nudge();
            }
        }
    }

    private static LivenessWatchMethod Choose(in ProcessIdentity process, LivenessToken? token)
    {
        if (process == ProcessIdentity.Current)
        {
            return LivenessWatchMethod.None;
        }

        if (process.IsInCurrentPidNamespace && ProcessIdentity.ProcMatchesPidNamespace)
        {
            return SafePidfdHandle.IsSupported && !ForcePolling ? LivenessWatchMethod.Pidfd : LivenessWatchMethod.Polling;
        }

        return token is { Index: >= 0 and <= ushort.MaxValue } ? LivenessWatchMethod.SemaphoreToken : LivenessWatchMethod.None;
    }

    private static LivenessWatch Subscribe(in ProcessIdentity process, LivenessToken? token, FutexInterrupt? interrupt, Action<object?>? callback, object? state)
    {
        LivenessWatchMethod method = Choose(process, token);
        if (method == LivenessWatchMethod.None)
        {
            return new LivenessWatch(null, LivenessWatchMethod.None, interrupt, callback, state);
        }

        LivenessWatch watch;
        lock (s_gate)
        {
            var key = (process, method == LivenessWatchMethod.SemaphoreToken ? token : null);
            if (!s_entries.TryGetValue(key, out Entry? entry))
            {
                entry = CreateEntryLocked(process, token, method);
            }

            if (entry is null || entry.Dead)
            {
                watch = new LivenessWatch(null, LivenessWatchMethod.AlreadyDead, interrupt, callback, state);
            }
            else
            {
                watch = new LivenessWatch(entry, entry.Method, interrupt, callback, state);
                entry.Subscribers.Add(watch);
                return watch;
            }
        }

        watch.Fire();
        return watch;
    }

    /// <summary>Creates the entry (null when the process is already dead).</summary>
    private static Entry? CreateEntryLocked(in ProcessIdentity process, LivenessToken? token, LivenessWatchMethod method)
    {
        if (method != LivenessWatchMethod.SemaphoreToken && process.ProcessId <= 0)
        {
            return null; // no process has such a pid (a garbage record from shared memory): dead
        }

        SafePidfdHandle? pidfd = null;
        if (method == LivenessWatchMethod.Pidfd)
        {
            switch (SafePidfdHandle.TryOpen(process, out pidfd))
            {
                case PidfdOpenStatus.Dead:
                    return null;
                case PidfdOpenStatus.Opened:
                    break;
                default:
                    method = LivenessWatchMethod.Polling;
                    break;
            }
        }
        else if (method == LivenessWatchMethod.Polling && ProcessLiveness.Check(process) == LivenessState.Dead)
        {
            return null;
        }

        var entry = new Entry(s_nextId++, process, method == LivenessWatchMethod.SemaphoreToken ? token : null, method, pidfd);
        try
        {
            if (method == LivenessWatchMethod.SemaphoreToken)
            {
                StartTokenThread(entry);
            }
            else
            {
                MonitorThread monitor = s_monitor ??= MonitorThread.Start();
                if (pidfd is not null)
                {
                    monitor.Add(pidfd, entry.Id);
                }
                else
                {
                    entry.NextPoll = MonotonicClock.Now;
                    monitor.Nudge(); // recompute its timeout: polling needs one
                }

                s_monitored.Add(entry);
            }
        }
        catch
        {
            pidfd?.Dispose();
            throw;
        }

        s_entries.Add((process, entry.Token), entry);
        s_byId.Add(entry.Id, entry);
        return entry;
    }

    /// <summary>Forgets an entry: out of the tables, its pidfd out of epoll and closed; a token thread exits at its next slice.</summary>
    private static void RemoveLocked(Entry entry)
    {
        if (entry.Removed)
        {
            return;
        }

        entry.Removed = true;
        s_entries.Remove((entry.Process, entry.Token));
        s_byId.Remove(entry.Id);
        if (entry.Method != LivenessWatchMethod.SemaphoreToken)
        {
            s_monitored.Remove(entry);
        }

        ClosePidfdLocked(entry);
    }

    private static void ClosePidfdLocked(Entry entry)
    {
        if (entry.Pidfd is { } pidfd)
        {
            s_monitor?.Remove(pidfd);
            pidfd.Dispose();
            entry.Pidfd = null;
        }
    }

    /// <summary>Marks the entry dead and collects its subscribers to fire outside the lock.</summary>
    private static void MarkDeadLocked(Entry entry, List<LivenessWatch> toFire)
    {
        if (entry.Dead)
        {
            return;
        }

        entry.Dead = true;
        entry.DetectedAt = MonotonicClock.Now;
        ClosePidfdLocked(entry); // a pidfd stays readable: take it out of epoll
        toFire.AddRange(entry.Subscribers);
        if (entry.Subscribers.Count == 0)
        {
            RemoveLocked(entry);
        }
    }

    private static void FireAll(List<LivenessWatch> toFire)
    {
        foreach (LivenessWatch watch in toFire)
        {
            watch.Fire();
        }

        toFire.Clear();
    }

    /// <summary>One watched process, shared by its watches.</summary>
    internal sealed class Entry(ulong id, ProcessIdentity process, LivenessToken? token, LivenessWatchMethod method, SafePidfdHandle? pidfd)
    {
        internal ulong Id { get; } = id;

        internal ProcessIdentity Process { get; } = process;

        internal LivenessToken? Token { get; } = token;

        internal LivenessWatchMethod Method { get; } = method;

        // The fields below are guarded by s_gate.
        internal List<LivenessWatch> Subscribers { get; } = [];

        internal SafePidfdHandle? Pidfd { get; set; } = pidfd;

        internal bool Dead { get; set; }

        internal bool Removed { get; set; }

        internal long LingerUntil { get; set; }

        internal long NextPoll { get; set; }

        /// <summary>When the death was seen (MonotonicClock), for latency reports.</summary>
        internal long DetectedAt { get; set; }
    }
}
