namespace ShmKit;

/// <summary>How the liveness monitor watches a process.</summary>
internal enum LivenessWatchMethod
{
    /// <summary>A pidfd in the monitor's epoll set (same pid namespace): notified when the process exits.</summary>
    Pidfd,

    /// <summary>A thread blocked in semtimedop wait-for-zero on the process's SEM_UNDO token (another pid namespace).</summary>
    SemaphoreToken,

    /// <summary>Fallback without pidfd_open: the monitor checks /proc every 100 ms.</summary>
    Polling,

    /// <summary>The process is already known dead: the watch fired when it was made.</summary>
    AlreadyDead,

    /// <summary>Cannot be watched: another pid namespace and no token (or the process is this one). Never fires.</summary>
    None,
}
