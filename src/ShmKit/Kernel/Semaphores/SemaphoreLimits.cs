namespace ShmKit;

/// <summary>
/// The host's semaphore limits (semctl IPC_INFO; the four numbers of <c>/proc/sys/kernel/sem</c> plus fixed
/// kernel constants) and current usage (SEM_INFO).
/// </summary>
public sealed record SemaphoreLimits
{
    /// <summary>semmni: the most semaphore sets the host may have.</summary>
    public required int MaxSets { get; init; }

    /// <summary>semmns: the most semaphores in all sets together.</summary>
    public required int MaxSemaphores { get; init; }

    /// <summary>semmsl: the most semaphores in one set.</summary>
    public required int MaxSemaphoresPerSet { get; init; }

    /// <summary>semopm: the most operations in one semop call (<see cref="SemaphoreSet.Apply"/>).</summary>
    public required int MaxOperationsPerCall { get; init; }

    /// <summary>semvmx: the largest value a semaphore may hold (32767 on Linux).</summary>
    public required int MaxValue { get; init; }

    /// <summary>
    /// semaem: the largest SEM_UNDO adjustment the kernel keeps for one process and one semaphore (32767 on Linux, the
    /// same as semvmx). A process that releases with undo more than it acquires accumulates a negative adjustment;
    /// past this bound the operation fails with ERANGE.
    /// </summary>
    public required int MaxUndoAdjustment { get; init; }

    /// <summary>semmnu: the most undo structures (informational on Linux; not enforced).</summary>
    public required int MaxUndoStructures { get; init; }

    /// <summary>semume: the most undo entries per process (informational on Linux; not enforced).</summary>
    public required int MaxUndoEntriesPerProcess { get; init; }

    /// <summary>The number of semaphore sets that exist now (SEM_INFO semusz).</summary>
    public required int SetsInUse { get; init; }

    /// <summary>The number of semaphores in all sets that exist now (SEM_INFO semaem).</summary>
    public required int SemaphoresInUse { get; init; }

    /// <summary>The highest index in the kernel's table of sets that is in use (SEM_INFO's return value; what <see cref="SemaphoreSet.GetAll"/> scans up to).</summary>
    public required int HighestIndexInUse { get; init; }
}
