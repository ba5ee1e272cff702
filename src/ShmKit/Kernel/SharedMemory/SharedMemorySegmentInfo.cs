namespace ShmKit;

/// <summary>
/// Everything the kernel keeps about a segment (shmctl IPC_STAT, <c>struct shmid_ds</c>), as of the moment it was read.
/// </summary>
public sealed record SharedMemorySegmentInfo : IpcObjectInfo
{
    /// <inheritdoc/>
    public override IpcObjectKind Kind => IpcObjectKind.SharedMemory;

    /// <summary>The size in bytes, as asked at creation (shm_segsz; the kernel rounds the memory up to whole pages).</summary>
    public required long Size { get; init; }

    /// <summary>The process that created the segment (shm_cpid).</summary>
    public required int CreatorProcessId { get; init; }

    /// <summary>The process that last attached or detached (shm_lpid).</summary>
    public required int LastOperationProcessId { get; init; }

    /// <summary>How many attachments exist right now, in all processes (shm_nattch).</summary>
    public required long AttachCount { get; init; }

    /// <summary>The last shmat, or null if never attached.</summary>
    public DateTimeOffset? LastAttachTime { get; init; }

    /// <summary>The last shmdt, or null if never detached.</summary>
    public DateTimeOffset? LastDetachTime { get; init; }

    /// <summary>SHM_DEST: removed with IPC_RMID; it disappears when the last process detaches.</summary>
    public required bool IsMarkedForRemoval { get; init; }

    /// <summary>SHM_LOCKED: locked in memory with SHM_LOCK (never swapped).</summary>
    public required bool IsLocked { get; init; }
}
