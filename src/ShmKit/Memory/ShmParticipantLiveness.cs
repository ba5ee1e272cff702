namespace ShmKit;

/// <summary>Whether a process registered in a <see cref="ManagedSegment"/> still lives.</summary>
public enum ShmParticipantLiveness
{
    /// <summary>It lives: its /proc entry has the recorded start time, or (from another pid namespace) its liveness token is held.</summary>
    Alive,

    /// <summary>
    /// It died: its liveness token was released by the kernel (SEM_UNDO), or /proc shows no such process, another start
    /// time (the pid was reused) or a zombie. Its slot is reclaimed by the next process that registers.
    /// </summary>
    Dead,

    /// <summary>Cannot be told: another pid namespace and no readable token (the token set was removed).</summary>
    Unknown,
}
