namespace ShmKit;

/// <summary>
/// Everything the kernel keeps about a semaphore set (semctl IPC_STAT, <c>struct semid_ds</c>), as of the moment it was read.
/// </summary>
public sealed record SemaphoreSetInfo : IpcObjectInfo
{
    /// <inheritdoc/>
    public override IpcObjectKind Kind => IpcObjectKind.SemaphoreSet;

    /// <summary>The number of semaphores in the set (sem_nsems).</summary>
    public required int Count { get; init; }

    /// <summary>
    /// The last successful semop (sem_otime), or null if none happened yet. ShmKit's creators perform one right after
    /// initializing the values, so null means "created but not initialized yet" (or made by a tool that never operated on it).
    /// </summary>
    public DateTimeOffset? LastOperationTime { get; init; }
}
