using ShmKit.Interop;

namespace ShmKit;

/// <summary>The answer of <see cref="ProcessLiveness.Check(in ProcessIdentity)"/>.</summary>
internal enum LivenessState
{
    /// <summary>The process recorded is running (or stopped), with the same start time.</summary>
    Alive,

    /// <summary>
    /// Gone: no such pid, or the pid now belongs to a process with another start time (pid reuse), or it is a zombie
    /// (exited, not yet reaped: it holds nothing any more).
    /// </summary>
    Dead,

    /// <summary>
    /// This process cannot tell: the record's pid namespace is not this one (a pid means another process here; use
    /// its SEM_UNDO liveness token), /proc is not this namespace's, or /proc hides the pid (hidepid) while kill(pid, 0)
    /// says it exists.
    /// </summary>
    Unknown,
}

/// <summary>Is a recorded process still alive? One read of /proc/PID/stat (no allocation), plus kill(pid, 0) only to confirm a missing entry.</summary>
internal static class ProcessLiveness
{
    /// <summary>Checks <paramref name="identity"/> once. Never throws.</summary>
    internal static LivenessState Check(in ProcessIdentity identity)
    {
        if (identity == ProcessIdentity.Current)
        {
            return LivenessState.Alive;
        }

        if (!identity.IsInCurrentPidNamespace || !ProcessIdentity.ProcMatchesPidNamespace)
        {
            return LivenessState.Unknown;
        }

        if (identity.ProcessId <= 0)
        {
            return LivenessState.Dead; // no process has such a pid: a garbage record
        }

        switch (ProcStat.TryRead(identity.ProcessId, out char state, out ulong startTime))
        {
            case ProcStatStatus.Ok:
                return startTime != identity.StartTime || IsExited(state) ? LivenessState.Dead : LivenessState.Alive;
            case ProcStatStatus.Missing:
                // Missing from /proc is authoritative only if the kernel agrees (hidepid=1/2 hides other users' pids).
                return ProcessCalls.kill(identity.ProcessId, 0) == -1 && Errno.Last == Errno.ESRCH
                    ? LivenessState.Dead
                    : LivenessState.Unknown;
            default:
                return LivenessState.Unknown;
        }
    }

    /// <summary>
    /// Checks a process recorded with its SEM_UNDO liveness token (a participant, or an initializer that holds one):
    /// a token at 0 is Dead in any pid namespace (the kernel undid the +1, or the holder let go); otherwise /proc
    /// decides where it can (this pid namespace); otherwise a held token is Alive and an unreadable one Unknown.
    /// Never throws.
    /// </summary>
    internal static LivenessState Check(in ProcessIdentity identity, LivenessToken? token)
    {
        int value = token is { } t ? t.ReadValue() : -1;
        if (value == 0)
        {
            return LivenessState.Dead;
        }

        LivenessState proc = Check(identity);
        if (proc != LivenessState.Unknown)
        {
            return proc;
        }

        return value > 0 ? LivenessState.Alive : LivenessState.Unknown;
    }

    /// <summary>Z (zombie) or X/x (dead, being reaped).</summary>
    internal static bool IsExited(char state) => state is 'Z' or 'X' or 'x';
}
