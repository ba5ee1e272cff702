namespace ShmKit;

/// <summary>
/// Everything the kernel keeps about a semaphore set (semctl IPC_STAT, <c>struct semid_ds</c>), as of the moment it was read.
/// </summary>
public sealed record SemaphoreSetInfo
{
    /// <summary>The key (<see cref="IpcKey.Private"/> for a private set).</summary>
    public required IpcKey Key { get; init; }

    /// <summary>The id (semid).</summary>
    public required int Id { get; init; }

    /// <summary>The permission bits (0777). Read permission allows waiting and reading values; write (alter) allows changing them.</summary>
    public required UnixFileMode Mode { get; init; }

    /// <summary>The owner's user id.</summary>
    public required uint OwnerUserId { get; init; }

    /// <summary>The owner's group id.</summary>
    public required uint OwnerGroupId { get; init; }

    /// <summary>The creator's user id.</summary>
    public required uint CreatorUserId { get; init; }

    /// <summary>The creator's group id.</summary>
    public required uint CreatorGroupId { get; init; }

    /// <summary>The number of semaphores in the set (sem_nsems).</summary>
    public required int Count { get; init; }

    /// <summary>
    /// The last successful semop (sem_otime), or null if none happened yet. ShmKit's creators perform one right after
    /// initializing the values, so null means "created but not initialized yet" (or made by a tool that never operated on it).
    /// </summary>
    public DateTimeOffset? LastOperationTime { get; init; }

    /// <summary>Creation, the last IPC_SET, or the last SETVAL/SETALL (sem_ctime).</summary>
    public DateTimeOffset? LastChangeTime { get; init; }
}
