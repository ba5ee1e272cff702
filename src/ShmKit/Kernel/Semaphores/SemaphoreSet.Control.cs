using System.Globalization;
using ShmKit.Interop;
using SemControl = ShmKit.IpcControl<ShmKit.SemaphoreSetKind, ShmKit.SemaphoreSetStatus>;

namespace ShmKit;

/// <content>Control: values, waiter counts, permissions, removal, limits and the listing (semctl).</content>
public sealed partial class SemaphoreSet
{
    /// <summary>The current value of semaphore <paramref name="index"/> (GETVAL).</summary>
    /// <param name="index">The semaphore, 0..Count-1.</param>
    /// <returns>0..32767.</returns>
    public int GetValue(int index) => Control(index, Sem.GETVAL, 0, "semctl(GETVAL)");

    /// <summary>
    /// Sets semaphore <paramref name="index"/> (SETVAL), waking waiters that can now proceed. Clears every process's
    /// undo adjustment for this semaphore.
    /// </summary>
    /// <param name="index">The semaphore, 0..Count-1.</param>
    /// <param name="value">0..32767.</param>
    public void SetValue(int index, int value)
    {
        if ((uint)value > Sem.SEMVMX)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value,
                string.Create(CultureInfo.InvariantCulture, $"A semaphore value must be 0..{Sem.SEMVMX} (SEMVMX); {value} was given for semaphore {index} of the {Call(string.Empty).Describe()}."));
        }

        Control(index, Sem.SETVAL, value, "semctl(SETVAL)");
    }

    /// <summary>All values at once (GETALL), read atomically.</summary>
    /// <returns>One value per semaphore.</returns>
    public unsafe int[] GetValues()
    {
        ushort[] buffer = new ushort[Count];
        fixed (ushort* p = buffer)
        {
            if (Sem.semctl(Id, 0, Sem.GETALL, (nint)p) < 0)
            {
                throw SemaphoreErrors.ForControl(Errno.Last, Call("semctl(GETALL)"));
            }
        }

        int[] values = new int[Count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = buffer[i];
        }

        return values;
    }

    /// <summary>Sets all values at once (SETALL), atomically; clears every process's undo adjustments for the set.</summary>
    /// <param name="values">Exactly <see cref="Count"/> values, 0..32767.</param>
    public void SetValues(ReadOnlySpan<short> values)
    {
        if (values.Length != Count)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"SETALL needs exactly one value per semaphore: the {Call(string.Empty).Describe()} has {Count}, {values.Length} were given."),
                nameof(values));
        }

        CheckValues(values, nameof(values));
        SetAll(Id, Key, values);
    }

    /// <summary>The process that performed the last semop on semaphore <paramref name="index"/> (GETPID), or 0.</summary>
    /// <param name="index">The semaphore, 0..Count-1.</param>
    /// <returns>A process id.</returns>
    public int GetLastProcessId(int index) => Control(index, Sem.GETPID, 0, "semctl(GETPID)");

    /// <summary>How many processes (threads) are waiting for semaphore <paramref name="index"/> to increase (GETNCNT).</summary>
    /// <param name="index">The semaphore, 0..Count-1.</param>
    /// <returns>The number of waiters.</returns>
    public int GetWaitingForIncreaseCount(int index) => Control(index, Sem.GETNCNT, 0, "semctl(GETNCNT)");

    /// <summary>How many processes (threads) are waiting for semaphore <paramref name="index"/> to become zero (GETZCNT).</summary>
    /// <param name="index">The semaphore, 0..Count-1.</param>
    /// <returns>The number of waiters.</returns>
    public int GetWaitingForZeroCount(int index) => Control(index, Sem.GETZCNT, 0, "semctl(GETZCNT)");

    /// <summary>Reads everything the kernel keeps about the set (IPC_STAT). Needs read permission.</summary>
    /// <returns>A snapshot of <c>struct semid_ds</c>.</returns>
    /// <exception cref="IpcObjectRemovedException">The set no longer exists.</exception>
    /// <exception cref="IpcAccessDeniedException">This user may not read the set (<c>ipcs -s</c> shows its owner and mode).</exception>
    public SemaphoreSetInfo Stat() => ToInfo(Id, SemControl.Stat(Id, Key, existed: true));

    /// <summary>Changes the permission bits (IPC_SET). Only the owner, the creator or root may; read permission is not needed.</summary>
    /// <param name="mode">The new permission bits (0777 at most).</param>
    public void SetMode(UnixFileMode mode) => SemControl.SetMode(Id, Key, mode);

    /// <summary>Changes the owner (IPC_SET). Only the owner, the creator or root may.</summary>
    /// <param name="userId">The new owner's user id.</param>
    /// <param name="groupId">The new owner's group id.</param>
    public void SetOwner(uint userId, uint groupId) => SemControl.SetPermissions(Id, Key, mode: null, userId, groupId);

    /// <summary>
    /// Removes the set at once (IPC_RMID). Unlike a segment it does not linger: every process waiting on it wakes with
    /// <see cref="IpcObjectRemovedException"/>, and later calls on it fail the same way.
    /// </summary>
    /// <exception cref="IpcAccessDeniedException">Only the owner, the creator or root may remove it.</exception>
    /// <exception cref="IpcObjectRemovedException">It was removed already.</exception>
    public void Remove() => SemControl.Remove(Id, Key, existed: true);

    /// <summary>Removes the set with this id (IPC_RMID), as <c>ipcrm -s</c> does.</summary>
    /// <param name="id">The semid.</param>
    public static void Remove(int id) => SemControl.Remove(id, key: null, existed: false);

    /// <summary>The host's semaphore limits (IPC_INFO) and current usage (SEM_INFO).</summary>
    /// <returns>semmni, semmns, semmsl, semopm, semvmx, semaem and the sets and semaphores in use.</returns>
    public static SemaphoreLimits GetLimits()
    {
        var (_, info) = SemControl.Query<Sem.seminfo>(Ipc.IPC_INFO, "IPC_INFO");
        var (highest, usage) = SemControl.Query<Sem.seminfo>(Sem.SEM_INFO, "SEM_INFO");

        return new SemaphoreLimits
        {
            MaxSets = info.semmni,
            MaxSemaphores = info.semmns,
            MaxSemaphoresPerSet = info.semmsl,
            MaxOperationsPerCall = info.semopm,
            MaxValue = info.semvmx,
            MaxUndoAdjustment = info.semaem,
            MaxUndoStructures = info.semmnu,
            MaxUndoEntriesPerProcess = info.semume,
            SetsInUse = usage.semusz,
            SemaphoresInUse = usage.semaem,
            HighestIndexInUse = highest,
        };
    }

    /// <summary>
    /// Every semaphore set on the host, like <c>ipcs -s</c> (SEM_STAT_ANY up to the highest index SEM_INFO reports;
    /// it ignores read permission as /proc/sysvipc/sem does; SEM_STAT on kernels without it, before 4.17).
    /// </summary>
    /// <returns>One snapshot per set, ordered by id.</returns>
    public static IReadOnlyList<SemaphoreSetInfo> GetAll() => SemControl.GetAll(ToInfo);

    private int Control(int index, int command, int argument, string operation)
    {
        CheckIndex(index);
        int result = Sem.semctl(Id, index, command, argument);
        if (result < 0)
        {
            throw SemaphoreErrors.ForControl(Errno.Last, Call(operation));
        }

        return result;
    }

    private static SemaphoreSetInfo ToInfo(int id, in SemaphoreSetStatus status) => new()
    {
        Key = new IpcKey(status.sem_perm.__key),
        Id = id,
        Mode = IpcTime.ToPermissions(status.sem_perm.mode),
        OwnerUserId = status.sem_perm.uid,
        OwnerGroupId = status.sem_perm.gid,
        CreatorUserId = status.sem_perm.cuid,
        CreatorGroupId = status.sem_perm.cgid,
        Count = (int)status.sem_nsems,
        LastOperationTime = IpcTime.FromUnixSeconds(status.sem_otime),
        LastChangeTime = IpcTime.FromUnixSeconds(status.sem_ctime),
    };
}
