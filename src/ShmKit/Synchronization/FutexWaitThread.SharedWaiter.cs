using System.Diagnostics;
using System.Runtime.InteropServices;
using ShmKit.Interop;

namespace ShmKit;

internal static unsafe partial class FutexWaitThread
{
    /// <summary>
    /// A shared waiter thread: sleeps in futex_waitv on its control word (entry 0, private) and up to 127 registered
    /// words. Only this thread touches its vector and its entry array; others reach it through <see cref="Add"/> (the
    /// incoming list, under s_gate) and <see cref="Nudge"/> (the control word).
    /// </summary>
    private sealed class SharedWaiter : IWaiter
    {
        // The control word (process memory, own cache line). Writers: Add and Nudge on any thread (Interlocked.Increment,
        // then FUTEX_WAKE private). Reader: the waiter thread reads it (Volatile) before it collects work and passes
        // that value as entry 0's expected value, so a bump after the read makes futex_waitv return EAGAIN at once.
        private readonly int* _control;
        private readonly FutexCalls.futex_waitv* _vector;  // thread-only
        private readonly AsyncFutexWait?[] _entries = new AsyncFutexWait?[WordsPerThread]; // thread-only
        private readonly List<AsyncFutexWait> _incoming = []; // guarded by s_gate
        private int _count; // thread-only

        private SharedWaiter()
        {
            _control = (int*)NativeMemory.AlignedAlloc(64, 64);
            *_control = 0;
            _vector = (FutexCalls.futex_waitv*)NativeMemory.AlignedAlloc((nuint)(sizeof(FutexCalls.futex_waitv) * FutexCalls.FUTEX_WAITV_MAX), 64);
        }

        /// <summary>Registrations this thread holds or will hold (guarded by s_gate).</summary>
        internal int Reserved { get; set; }

        internal static SharedWaiter Start()
        {
            var waiter = new SharedWaiter();
            try
            {
                BackgroundThreads.Start(static state => ((SharedWaiter)state!).Run(), waiter, "ShmKit futex waiter", ref s_threadCount);
            }
            catch
            {
                waiter.Free();
                throw;
            }

            return waiter;
        }

        /// <summary>Hands a prepared, reserved source to the thread.</summary>
        internal void Add(AsyncFutexWait source)
        {
            lock (s_gate)
            {
                _incoming.Add(source);

                // Under the lock: until the thread takes the source from _incoming (under the same lock) it cannot
                // end, so the control word is still allocated.
                Nudge();
            }
        }

        /// <inheritdoc/>
        public void Nudge()
        {
            Interlocked.Increment(ref *_control);
            FutexCalls.futex(_control, FutexCalls.FUTEX_WAKE | FutexCalls.FUTEX_PRIVATE_FLAG, 1, null, null, 0);
        }

        private void Run()
        {
            long idleSince = MonotonicClock.Now;
            bool busy = false;
            try
            {
                while (true)
                {
                    int control = Volatile.Read(ref *_control);
                    lock (s_gate)
                    {
                        foreach (AsyncFutexWait source in _incoming)
                        {
                            _entries[_count++] = source;
                            busy = true;
                        }

                        _incoming.Clear();
                        // Idle for the linger time, or futex_waitv turned out to be unavailable (new waits get
                        // dedicated threads; staying would make every futex_waitv here fail at once).
                        if (_count == 0 && Reserved == 0
                            && (MonotonicClock.Now - idleSince >= Volatile.Read(ref s_idleLingerTicks) || !Futex.IsWaitvAvailable))
                        {
                            s_threads.Remove(this);
                            return;
                        }
                    }

                    long deadline = Sweep();
                    if (_count == 0)
                    {
                        deadline = MonotonicClock.Min(deadline, idleSince + Volatile.Read(ref s_idleLingerTicks));
                    }

                    int index = WaitOnce(control, deadline, out int errno);
                    if (index > 0)
                    {
                        CompleteAt(index - 1, FutexWaitResult.Woken);
                    }
                    else if (index < 0 && errno is not (Errno.EAGAIN or Errno.ETIMEDOUT or Errno.EINTR))
                    {
                        FailAll(errno);
                    }

                    if (_count > 0)
                    {
                        busy = true;
                    }
                    else if (busy)
                    {
                        busy = false;
                        idleSince = MonotonicClock.Now; // the linger starts when the last entry completes
                    }
                }
            }
            finally
            {
                Interlocked.Decrement(ref s_threadCount);
                Free();
            }
        }

        /// <summary>
        /// Completes every entry that is done — requests first, then changed values, then expired deadlines — and
        /// returns the earliest deadline left. Reading the words is safe: each entry's mapping is AddRef'd.
        /// </summary>
        private long Sweep()
        {
            long now = MonotonicClock.Now;
            long earliest = MonotonicClock.Infinite;
            for (int i = _count - 1; i >= 0; i--)
            {
                AsyncFutexWait source = _entries[i]!;
                int requests = source.Requests;
                if ((requests & AsyncFutexWait.CancelRequested) != 0)
                {
                    CompleteAt(i, FutexWaitResult.Cancelled);
                }
                else if ((requests & AsyncFutexWait.InterruptRequested) != 0)
                {
                    CompleteAt(i, FutexWaitResult.Interrupted);
                }
                else if (Volatile.Read(ref *source.Word) != source.Expected)
                {
                    CompleteAt(i, FutexWaitResult.ValueChanged);
                }
                else if (now >= source.Deadline)
                {
                    CompleteAt(i, FutexWaitResult.TimedOut);
                }
                else
                {
                    earliest = MonotonicClock.Min(earliest, source.Deadline);
                }
            }

            return earliest;
        }

        /// <summary>One futex_waitv on the control word and every entry; returns the woken index or -1 with <paramref name="errno"/>.</summary>
        private int WaitOnce(int control, long deadline, out int errno)
        {
            _vector[0] = new FutexCalls.futex_waitv { val = (uint)control, uaddr = (ulong)_control, flags = FutexCalls.FUTEX_32 | FutexCalls.FUTEX_PRIVATE_FLAG };
            for (int i = 0; i < _count; i++)
            {
                AsyncFutexWait source = _entries[i]!;
                _vector[i + 1] = new FutexCalls.futex_waitv { val = (uint)source.Expected, uaddr = (ulong)source.Word, flags = FutexCalls.FUTEX_32 };
            }

            Sem.timespec ts;
            Sem.timespec* timeout = null;
            if (deadline != MonotonicClock.Infinite)
            {
                MonotonicClock.ToTimespec(deadline, &ts);
                timeout = &ts;
            }

            int index = FutexCalls.sys_futex_waitv(_vector, (uint)(_count + 1), 0, timeout, FutexCalls.CLOCK_MONOTONIC);
            errno = index < 0 ? Errno.Last : 0;
            return index;
        }

        /// <summary>Removes entry <paramref name="i"/> (swap with the last) and completes it.</summary>
        private void CompleteAt(int i, FutexWaitResult result, Exception? error = null)
        {
            AsyncFutexWait source = _entries[i]!;
            _entries[i] = _entries[--_count];
            _entries[_count] = null;
            lock (s_gate)
            {
                Reserved--;
            }

            source.Complete(result, error);
        }

        /// <summary>
        /// futex_waitv failed in a way that says nothing about a single entry. ENOSYS/EPERM: futex_waitv is unavailable
        /// (remembered; later waits use dedicated threads) — the pending waits complete as Woken, so their callers
        /// re-check and wait again on the fallback. Anything else (EFAULT: a word unmapped despite the contract; EINVAL)
        /// fails them all without reading their words again.
        /// </summary>
        private void FailAll(int errno)
        {
            Exception? error = null;
            if (errno is Errno.ENOSYS or Errno.EPERM)
            {
                Futex.MarkWaitvUnavailable();
            }
            else
            {
                error = FutexErrors.ForWait(errno, 0, "futex_waitv (async waiter)");
                Trace.TraceError(error.Message);
            }

            while (_count > 0)
            {
                CompleteAt(_count - 1, FutexWaitResult.Woken, error);
            }
        }

        private void Free()
        {
            NativeMemory.AlignedFree(_control);
            NativeMemory.AlignedFree(_vector);
        }
    }
}
