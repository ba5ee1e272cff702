namespace ShmKit;

/// <summary>
/// A snapshot of one process registered in a <see cref="ManagedSegment"/> (from <see cref="ManagedSegment.GetParticipants"/>):
/// who it is, when it registered and whether it still lives. The liveness is judged when the snapshot is taken.
/// </summary>
/// <param name="Slot">Its slot in the participant table (and its liveness token's semaphore number).</param>
/// <param name="ProcessId">Its pid as it sees itself (in its own pid namespace).</param>
/// <param name="StartTime">Its start time in clock ticks since boot (/proc/PID/stat field 22): with the pid, it tells a reused pid apart.</param>
/// <param name="PidNamespaceInode">The inode of its pid namespace (/proc/PID/ns/pid).</param>
/// <param name="Generation">The slot's generation: incremented every time the slot is claimed.</param>
/// <param name="OwnerId">The id its locks and directory claims carry (slot and generation bits).</param>
/// <param name="Liveness">Alive, dead (its slot will be reclaimed) or unknown.</param>
/// <param name="RegisteredAt">When it registered (its own clock).</param>
/// <param name="IsCurrentProcess">True for this process's own registration(s).</param>
public readonly record struct ManagedSegmentParticipant(
    int Slot, int ProcessId, long StartTime, long PidNamespaceInode, long Generation, int OwnerId,
    ShmParticipantLiveness Liveness, DateTimeOffset RegisteredAt, bool IsCurrentProcess);
