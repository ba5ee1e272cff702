using System.Diagnostics;
using Microsoft.Win32.SafeHandles;
using ShmKit.Interop;

namespace ShmKit;

internal static unsafe partial class LivenessMonitor
{
    /// <summary>
    /// The epoll thread: waits for pidfds to become readable, polls the fallback entries, reaps lingering entries and
    /// ends itself when it has had nothing to watch for <see cref="IdleLinger"/>. Its descriptors are created with it
    /// and closed by it, under s_gate, when it ends.
    /// </summary>
    private sealed class MonitorThread
    {
        private readonly SafeFileHandle _epoll;
        private readonly SafeFileHandle _eventFd;
        private long _idleSince; // guarded by s_gate: when s_monitored last became empty

        private MonitorThread(SafeFileHandle epoll, SafeFileHandle eventFd)
        {
            _epoll = epoll;
            _eventFd = eventFd;
            _idleSince = MonotonicClock.Now;
        }

        /// <summary>Creates the epoll set and the eventfd and starts the thread (under s_gate).</summary>
        internal static MonitorThread Start()
        {
            int epfd = Epoll.epoll_create1(Epoll.EPOLL_CLOEXEC);
            if (epfd < 0)
            {
                throw FutexErrors.ForMonitor(Errno.Last, "epoll_create1");
            }

            var epoll = new SafeFileHandle(epfd, ownsHandle: true);
            int efd = EventFd.eventfd(0, EventFd.EFD_CLOEXEC | EventFd.EFD_NONBLOCK);
            if (efd < 0)
            {
                int errno = Errno.Last;
                epoll.Dispose();
                throw FutexErrors.ForMonitor(errno, "eventfd");
            }

            var eventFd = new SafeFileHandle(efd, ownsHandle: true);
            if (Epoll.Control(epfd, Epoll.EPOLL_CTL_ADD, efd, Epoll.EPOLLIN, 0) < 0)
            {
                int errno = Errno.Last;
                epoll.Dispose();
                eventFd.Dispose();
                throw FutexErrors.ForMonitor(errno, "epoll_ctl(EPOLL_CTL_ADD, eventfd)");
            }

            var monitor = new MonitorThread(epoll, eventFd);
            try
            {
                BackgroundThreads.Start(static state => ((MonitorThread)state!).Run(), monitor, "ShmKit liveness monitor", ref s_threadCount);
            }
            catch
            {
                epoll.Dispose();
                eventFd.Dispose();
                throw;
            }

            return monitor;
        }

        /// <summary>Adds a pidfd whose events carry <paramref name="id"/> (under s_gate; the thread may be in epoll_wait).</summary>
        internal void Add(SafePidfdHandle pidfd, ulong id)
        {
            if (Epoll.Control((int)_epoll.DangerousGetHandle(), Epoll.EPOLL_CTL_ADD, pidfd.Descriptor, Epoll.EPOLLIN, id) < 0)
            {
                throw FutexErrors.ForMonitor(Errno.Last, "epoll_ctl(EPOLL_CTL_ADD, pidfd)");
            }
        }

        /// <summary>Takes a pidfd out of the set before it is closed (under s_gate).</summary>
        internal void Remove(SafePidfdHandle pidfd) =>
            Epoll.epoll_ctl((int)_epoll.DangerousGetHandle(), Epoll.EPOLL_CTL_DEL, pidfd.Descriptor, null);

        /// <summary>Wakes the thread so it recomputes its timeout (under s_gate; never blocks: the eventfd is non-blocking).</summary>
        internal void Nudge()
        {
            ulong one = 1;
            FdCalls.write((int)_eventFd.DangerousGetHandle(), &one, sizeof(ulong));
        }

        private void Run()
        {
            var toFire = new List<LivenessWatch>();
            byte* events = stackalloc byte[MaxEvents * 16];
            int epfd = (int)_epoll.DangerousGetHandle();
            try
            {
                while (true)
                {
                    long wakeAt;
                    lock (s_gate)
                    {
                        if (!Housekeep(toFire, out wakeAt))
                        {
                            return;
                        }
                    }

                    FireAll(toFire);
                    int timeout = ToEpollTimeout(wakeAt);
                    int n = Epoll.epoll_wait(epfd, events, MaxEvents, timeout);
                    if (n < 0)
                    {
                        if (Errno.Last != Errno.EINTR)
                        {
                            Trace.TraceError($"ShmKit liveness monitor: epoll_wait failed: {Errno.Describe(Errno.Last)}");
                            Thread.Sleep(PollingIntervalMilliseconds);
                        }

                        continue;
                    }

                    lock (s_gate)
                    {
                        for (int i = 0; i < n; i++)
                        {
                            (_, ulong data) = Epoll.GetEvent(events, i);
                            if (data == 0)
                            {
                                ulong count;
                                FdCalls.read((int)_eventFd.DangerousGetHandle(), &count, sizeof(ulong));
                            }
                            else if (s_byId.TryGetValue(data, out Entry? entry))
                            {
                                MarkDeadLocked(entry, toFire); // readable pidfd: the process has exited
                            }
                        }
                    }

                    FireAll(toFire);
                }
            }
            finally
            {
                Interlocked.Decrement(ref s_threadCount);
            }
        }

        /// <summary>
        /// Under s_gate: polls due fallback entries, removes expired lingering ones, and either computes when to wake
        /// next or — idle for the linger time — ends the monitor (returns false).
        /// </summary>
        private bool Housekeep(List<LivenessWatch> toFire, out long wakeAt)
        {
            long now = MonotonicClock.Now;
            wakeAt = MonotonicClock.Infinite;
            for (int i = s_monitored.Count - 1; i >= 0; i--)
            {
                Entry entry = s_monitored[i];
                if (entry.Subscribers.Count == 0 && !entry.Dead)
                {
                    if (now >= entry.LingerUntil)
                    {
                        RemoveLocked(entry);
                        continue;
                    }

                    wakeAt = MonotonicClock.Min(wakeAt, entry.LingerUntil);
                }

                if (entry.Method == LivenessWatchMethod.Polling && !entry.Dead)
                {
                    if (now >= entry.NextPoll)
                    {
                        if (ProcessLiveness.Check(entry.Process) == LivenessState.Dead)
                        {
                            MarkDeadLocked(entry, toFire);
                            continue;
                        }

                        entry.NextPoll = MonotonicClock.Slice(now, PollingIntervalMilliseconds, MonotonicClock.Infinite);
                    }

                    wakeAt = MonotonicClock.Min(wakeAt, entry.NextPoll);
                }
            }

            if (s_monitored.Count == 0)
            {
                long idleEnd = _idleSince + Volatile.Read(ref s_idleLingerTicks);
                if (now >= idleEnd && toFire.Count == 0)
                {
                    s_monitor = null;
                    s_monitorWakeAt = MonotonicClock.Infinite;
                    _epoll.Dispose();
                    _eventFd.Dispose();
                    return false;
                }

                wakeAt = MonotonicClock.Min(wakeAt, idleEnd);
            }
            else
            {
                _idleSince = now;
            }

            s_monitorWakeAt = wakeAt;
            return true;
        }

        private static int ToEpollTimeout(long wakeAt)
        {
            if (wakeAt == MonotonicClock.Infinite)
            {
                return -1;
            }

            long left = wakeAt - MonotonicClock.Now;
            if (left <= 0)
            {
                return 0;
            }

            // Round up to whole milliseconds so the thread never wakes just before its deadline and spins.
            long ms = (left * 1000 + Stopwatch.Frequency - 1) / Stopwatch.Frequency;
            return ms > int.MaxValue ? int.MaxValue : (int)ms;
        }
    }
}
