namespace ShmKit;

/// <summary>
/// One operation of an atomic <see cref="SemaphoreSet.Apply"/> call (one <c>struct sembuf</c>): add
/// <paramref name="Delta"/> to semaphore <paramref name="Index"/>, wait until it is large enough to subtract, or
/// (Delta 0) wait until it is zero.
/// </summary>
/// <param name="Index">The semaphore's index in the set, 0..Count-1.</param>
/// <param name="Delta">
/// Positive: release (never blocks). Negative: acquire <c>-Delta</c> (blocks while the value is smaller).
/// Zero: wait until the value is zero.
/// </param>
/// <param name="Undo">
/// SEM_UNDO: the kernel records the opposite adjustment and applies it when this process exits, so a process that
/// dies holding a lock gives it back. Keep it on for lock-style use; turn it off for counting semaphores where
/// one process releases and another acquires (see <see cref="SemaphoreSet"/>).
/// </param>
/// <param name="NoWait">IPC_NOWAIT: fail instead of blocking. <see cref="SemaphoreSet.TryApply"/> sets it on every operation.</param>
public readonly record struct SemaphoreOperation(int Index, short Delta, bool Undo = true, bool NoWait = false);
