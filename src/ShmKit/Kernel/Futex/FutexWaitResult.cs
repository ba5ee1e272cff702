namespace ShmKit;

/// <summary>How a futex wait ended. Every result except TimedOut and Cancelled means "re-read the word".</summary>
internal enum FutexWaitResult
{
    /// <summary>A FUTEX_WAKE reached this waiter, or the kernel woke it spuriously: the word may have changed.</summary>
    Woken,

    /// <summary>The word did not hold the expected value when the wait began (EAGAIN): it has changed.</summary>
    ValueChanged,

    /// <summary>The absolute deadline passed.</summary>
    TimedOut,

    /// <summary>The cancellation token was cancelled. The shared word is untouched.</summary>
    Cancelled,

    /// <summary>
    /// The thread's <see cref="FutexInterrupt"/> was signalled while armed (a process the waiter watches through the
    /// liveness monitor has died). The shared word is untouched; the waiter re-checks the owner.
    /// </summary>
    Interrupted,
}
