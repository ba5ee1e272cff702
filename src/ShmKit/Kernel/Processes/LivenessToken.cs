using System.Globalization;
using ShmKit.Interop;

namespace ShmKit;

/// <summary>
/// A participant's SEM_UNDO liveness token: semaphore <paramref name="Index"/> of set <paramref name="SemaphoreSetId"/>,
/// which the participant holds at +1 with SEM_UNDO for as long as it lives. The kernel undoes the +1 when the process
/// dies, in whatever pid namespace, so a watcher blocked in semtimedop's wait-for-zero learns of the death (0.2–0.35
/// ms here). A token at 0 also means the participant unregistered. System V objects live in the IPC namespace the
/// segment needs anyway, so this works across pid namespaces (containers that share IPC but not pids).
/// </summary>
/// <param name="SemaphoreSetId">The semid of the token set (read from shared memory: validated by the kernel on use).</param>
/// <param name="Index">The semaphore number in the set.</param>
internal readonly record struct LivenessToken(int SemaphoreSetId, int Index)
{
    /// <summary>
    /// The token's value now (semctl GETVAL): 0 = its holder died or let go; more = held; -1 = it cannot be read (the
    /// set was removed, this user may not read it, or the numbers are out of range — they come from shared memory).
    /// Never throws.
    /// </summary>
    internal int ReadValue()
    {
        if (SemaphoreSetId < 0 || Index is < 0 or > ushort.MaxValue)
        {
            return -1;
        }

        int value = Sem.semctl(SemaphoreSetId, Index, Sem.GETVAL, 0);
        return value < 0 ? -1 : value;
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"semaphore {Index} of set {SemaphoreSetId}");
}
