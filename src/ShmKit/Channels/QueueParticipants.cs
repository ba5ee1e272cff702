namespace ShmKit;

/// <summary>
/// Who holds what in a queue, judged through the managed segment's participant table: owner ids (slot and
/// generation bits) of ShmKit processes, and bare pids of peers that are not participants (C programs using
/// include/shmkit/shmkit_queue.h, which record their pid in an SPSC role word). Slow path only: a check reads the
/// liveness token (semctl) and /proc.
/// </summary>
internal sealed class QueueParticipants(ManagedSegment segment)
{
    /// <summary>This process's owner id in the segment.</summary>
    internal int Self { get; } = segment.OwnerId;

    internal ManagedSegment Segment => segment;

    /// <summary>Alive for this process itself; otherwise the participant table's judgement (Dead when the slot moved on).</summary>
    internal ShmParticipantLiveness Check(int ownerId) =>
        ownerId == Self ? ShmParticipantLiveness.Alive : segment.CheckOwner(ownerId);

    /// <summary>A bare pid (a peer that is not a participant): Dead when /proc has no such process or a zombie.</summary>
    internal static ShmParticipantLiveness CheckPid(int pid)
    {
        if (pid <= 0)
        {
            return ShmParticipantLiveness.Dead;
        }

        if (pid == Environment.ProcessId)
        {
            return ShmParticipantLiveness.Alive;
        }

        if (!ProcessIdentity.ProcMatchesPidNamespace)
        {
            return ShmParticipantLiveness.Unknown;
        }

        return ProcStat.TryRead(pid, out char state, out _) switch
        {
            ProcStatStatus.Missing => ShmParticipantLiveness.Dead,
            ProcStatStatus.Ok => ProcessLiveness.IsExited(state) ? ShmParticipantLiveness.Dead : ShmParticipantLiveness.Alive,
            _ => ShmParticipantLiveness.Unknown,
        };
    }

    /// <summary>The pid of a participant (0 when its slot is not Active at that generation).</summary>
    internal int ProcessIdOf(int ownerId) => segment.TryGetOwner(ownerId, out ManagedSegmentParticipant p) ? p.ProcessId : 0;

    /// <summary>What the liveness monitor needs to watch a participant; false for this process or an owner that is gone.</summary>
    internal bool TryGetWatchTarget(int ownerId, out ProcessIdentity process, out LivenessToken token)
    {
        process = default;
        token = default;
        if (ownerId == Self || ownerId == 0 || !segment.TryGetOwner(ownerId, out ManagedSegmentParticipant p))
        {
            return false;
        }

        process = new ProcessIdentity(p.ProcessId, (ulong)p.StartTime, (ulong)p.PidNamespaceInode);
        token = new LivenessToken(segment.LivenessTokens.Id, p.Slot);
        return true;
    }

    /// <summary>
    /// Arms the calling thread's interrupt for the death of <paramref name="ownerId"/> (null when there is nothing to
    /// watch). Dispose it when the wait ends. A watch of an owner that is already dead fires at once.
    /// </summary>
    internal LivenessWatch? Watch(int ownerId) =>
        TryGetWatchTarget(ownerId, out ProcessIdentity process, out LivenessToken token)
            ? LivenessMonitor.Watch(process, token, FutexInterrupt.Current)
            : null;
}
