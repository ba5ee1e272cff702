using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using ShmKit.Interop;

namespace ShmKit;

/// <summary>
/// A System V semaphore set: an array of counters in the kernel, found by key or id, that any process may wait on
/// and release. This type is a reference to the kernel object, not a process resource: it holds nothing to
/// dispose. <see cref="Remove()"/> deletes the set.
/// </summary>
/// <remarks>
/// <para><b>Creation and initialization.</b> semget creates a set with undefined values (zero on Linux), and a second
/// call is needed to set them, so a process that opens a brand-new set could use it before its creator set the
/// values. ShmKit closes that gap the classic way (Stevens, UNP vol. 2, §11.2): the creator creates exclusively
/// (IPC_CREAT|IPC_EXCL), sets every value with SETALL, and then performs one semop that always succeeds and leaves
/// the values unchanged (+1 then -1 on semaphore 0, or -1 then +1 when it starts at SEMVMX; both in one atomic
/// call, no undo). That semop is the first one ever, so it moves sem_otime from 0 to the current time: "initialized".
/// Openers (<see cref="Open"/> and the losing side of <see cref="OpenOrCreate"/>) poll IPC_STAT until sem_otime is
/// non-zero, and give up with <see cref="SemaphoreSetNotInitializedException"/> after the initialization timeout
/// (default 5 s). A zero-delta "wait for zero" cannot serve as the publishing operation: it blocks whenever
/// semaphore 0 starts non-zero.</para>
/// <para><b>SEM_UNDO</b> (the <c>undo</c> parameters, on by default): the kernel keeps, per process and per
/// semaphore, the opposite of every change made with undo, and applies it when the process exits, however it exits
/// (even SIGKILL). A process that dies holding a lock therefore gives it back. Turn it <b>off</b> for counting
/// semaphores (producer/consumer, "items available", the ready gate of <see cref="SharedMemoryRendezvous"/>) where
/// the process that releases is not the one that acquires: with undo, the producer's exit would take back every
/// item it ever released, and a consumer's exit would hand back items it consumed. Also keep the acquire and its
/// release on the same setting, or the adjustment no longer nets to zero. The adjustment per process and semaphore
/// is limited to -32768..32767 (semaem, <see cref="SemaphoreLimits.MaxUndoAdjustment"/>): a process that keeps
/// releasing with undo and never acquires eventually gets ERANGE. <see cref="SetValue"/> and <see cref="SetValues"/>
/// clear the adjustments of every process for the semaphores they set. On exit the kernel clamps a value that the
/// adjustment would make negative to 0.</para>
/// <para><b>Waiting.</b> Every blocking call takes a timeout and a cancellation token. Without either, it is a
/// single blocking semop. With a timeout only, it is semtimedop with the time left. With a token that can be
/// cancelled, it waits in slices of at most 50 ms and checks the token between them, so cancellation takes effect
/// within about 50 ms; between two slices the waiter is briefly off the kernel's queue, which can let another waiter
/// go first (semaphores never promised FIFO order) and can miss a value that becomes zero and non-zero again
/// within the gap (for <see cref="WaitForZero"/>). EINTR (a signal arrived) is retried with the time left and is never
/// seen by the caller. The waiting paths allocate nothing.</para>
/// <para><b>Ordering.</b> semop is a system call that takes the set's lock in the kernel: everything a process wrote to
/// shared memory before a release is visible to the process whose wait that release satisfies. No extra barrier is
/// needed around data protected by a semaphore lock.</para>
/// <para><b>Errors.</b> The set removed before or during a wait: <see cref="IpcObjectRemovedException"/>. A timeout:
/// <see cref="TimeoutException"/> naming the operation. A value above SEMVMX (32767) or an undo adjustment outside
/// semaem: <see cref="ArgumentOutOfRangeException"/>. A bad index: <see cref="ArgumentOutOfRangeException"/>
/// naming the index and the count. Too many operations in one <see cref="Apply"/> (semopm):
/// <see cref="ArgumentException"/>. Permission: <see cref="IpcAccessDeniedException"/> (waiting and reading need
/// read permission, changing values needs write permission).</para>
/// </remarks>
public sealed class SemaphoreSet
{
    /// <summary>The default permission: owner read and write (0600).</summary>
    public const UnixFileMode DefaultMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private const string SemopName = "semop";
    private const string SemtimedopName = "semtimedop";
    private const int StackOperations = 64;

    private static readonly TimeSpan s_slice = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan s_defaultInitializationTimeout = TimeSpan.FromSeconds(5);

    private SemaphoreSet(int id, IpcKey key, int count, bool wasCreated)
    {
        Id = id;
        Key = key;
        Count = count;
        WasCreated = wasCreated;
    }

    /// <summary>The set's id (semid), valid in every process of the host.</summary>
    public int Id { get; }

    /// <summary>The key it was created or opened with (<see cref="IpcKey.Private"/> for private sets).</summary>
    public IpcKey Key { get; }

    /// <summary>The number of semaphores in the set (fixed at creation).</summary>
    public int Count { get; }

    /// <summary>
    /// True when the call that returned this instance created and initialized the set (<see cref="CreateNew"/>,
    /// <see cref="CreatePrivate"/>, or the winning side of <see cref="OpenOrCreate"/>); false when it opened an existing one.
    /// </summary>
    public bool WasCreated { get; }

    /// <summary>
    /// Creates a set that must not exist yet (IPC_CREAT|IPC_EXCL), sets its values and marks it initialized.
    /// </summary>
    /// <param name="key">The key; <see cref="IpcKey.Private"/> creates a private set.</param>
    /// <param name="initialValues">One value per semaphore, 0..32767; the length is the number of semaphores (1..semmsl).</param>
    /// <param name="mode">Permission bits; default 0600.</param>
    /// <returns>The new set.</returns>
    /// <exception cref="IpcObjectExistsException">A set with this key exists.</exception>
    /// <exception cref="IpcSizeException">More semaphores than semmsl.</exception>
    /// <exception cref="IpcLimitExceededException">Out of set ids (semmni) or semaphores (semmns).</exception>
    public static SemaphoreSet CreateNew(IpcKey key, ReadOnlySpan<short> initialValues, UnixFileMode mode = DefaultMode)
    {
        CheckInitialValues(initialValues);
        int flags = Ipc.IPC_CREAT | Ipc.IPC_EXCL | IpcTime.FromPermissions(mode, nameof(mode));
        int id = Sem.semget(key.Value, initialValues.Length, flags);
        if (id < 0)
        {
            ThrowSemget(Errno.Last, key, initialValues.Length);
        }

        Initialize(id, key, initialValues);
        return new SemaphoreSet(id, key, initialValues.Length, wasCreated: true);
    }

    /// <summary>Creates a private set (IPC_PRIVATE): new, without a key, shared by passing its <see cref="Id"/>.</summary>
    /// <param name="initialValues">One value per semaphore, 0..32767.</param>
    /// <param name="mode">Permission bits; default 0600.</param>
    /// <returns>The new set.</returns>
    public static SemaphoreSet CreatePrivate(ReadOnlySpan<short> initialValues, UnixFileMode mode = DefaultMode) =>
        CreateNew(IpcKey.Private, initialValues, mode);

    /// <summary>
    /// Opens the set with this key, or creates and initializes it if there is none. Safe when many processes race:
    /// exactly one creates it (<see cref="WasCreated"/> is true for that one), and the others wait until it is
    /// initialized, so every caller sees the initial values.
    /// </summary>
    /// <param name="key">The key (not <see cref="IpcKey.Private"/>).</param>
    /// <param name="initialValues">The values to create with; an existing set must have at least this many semaphores.</param>
    /// <param name="mode">Permission bits when created; default 0600.</param>
    /// <param name="initializationTimeout">How long to wait for another creator to finish initializing; default 5 s.</param>
    /// <returns>The set.</returns>
    /// <exception cref="SemaphoreSetNotInitializedException">The set exists but was never initialized within the timeout.</exception>
    /// <exception cref="IpcSizeException">The existing set has fewer semaphores than <paramref name="initialValues"/>.</exception>
    public static SemaphoreSet OpenOrCreate(IpcKey key, ReadOnlySpan<short> initialValues, UnixFileMode mode = DefaultMode, TimeSpan? initializationTimeout = null)
    {
        CheckNotPrivate(key);
        CheckInitialValues(initialValues);
        TimeSpan timeout = CheckInitializationTimeout(initializationTimeout);
        int flags = Ipc.IPC_CREAT | Ipc.IPC_EXCL | IpcTime.FromPermissions(mode, nameof(mode));

        // Exclusive create first: whoever wins initializes; everyone else opens and waits for the winner.
        // The loop covers a set removed between our EEXIST and our open (ENOENT): try to create again.
        for (int attempt = 0; ; attempt++)
        {
            int id = Sem.semget(key.Value, initialValues.Length, flags);
            if (id >= 0)
            {
                Initialize(id, key, initialValues);
                return new SemaphoreSet(id, key, initialValues.Length, wasCreated: true);
            }

            int errno = Errno.Last;
            if (errno != Errno.EEXIST)
            {
                ThrowSemget(errno, key, initialValues.Length);
            }

            id = Sem.semget(key.Value, initialValues.Length, 0);
            if (id < 0)
            {
                errno = Errno.Last;
                if (errno == Errno.ENOENT && attempt < 100)
                {
                    continue;
                }

                ThrowSemget(errno, key, initialValues.Length);
            }

            int count = WaitUntilInitialized(id, key, timeout);
            return new SemaphoreSet(id, key, count, wasCreated: false);
        }
    }

    /// <summary>Opens the existing set with this key, waiting (up to the timeout) until its creator has initialized it.</summary>
    /// <param name="key">The key (not <see cref="IpcKey.Private"/>).</param>
    /// <param name="initializationTimeout">How long to wait for the creator to finish initializing; default 5 s.</param>
    /// <returns>The set.</returns>
    /// <exception cref="IpcObjectNotFoundException">No set has this key.</exception>
    /// <exception cref="SemaphoreSetNotInitializedException">The set exists but was never initialized within the timeout.</exception>
    /// <exception cref="IpcAccessDeniedException">This user may not read the set (checking initialization needs IPC_STAT, which needs read permission).</exception>
    public static SemaphoreSet Open(IpcKey key, TimeSpan? initializationTimeout = null)
    {
        CheckNotPrivate(key);
        TimeSpan timeout = CheckInitializationTimeout(initializationTimeout);
        int id = Sem.semget(key.Value, 0, 0);
        if (id < 0)
        {
            ThrowSemget(Errno.Last, key, 0);
        }

        int count = WaitUntilInitialized(id, key, timeout);
        return new SemaphoreSet(id, key, count, wasCreated: false);
    }

    /// <summary>Opens a set by id (from <c>ipcs -s</c>, <c>shmkit sem list</c>, or another process). Does not wait for initialization.</summary>
    /// <param name="id">The semid.</param>
    /// <returns>The set.</returns>
    /// <exception cref="IpcObjectNotFoundException">No set has this id.</exception>
    public static SemaphoreSet OpenById(int id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        if (Sem.Stat(id, Ipc.IPC_STAT, out Sem.SemaphoreSetStatus status) < 0)
        {
            throw IpcErrors.ForControl(Errno.Last, new IpcCall(IpcObjectKind.SemaphoreSet, "semctl(IPC_STAT)", Id: id), existed: false);
        }

        return new SemaphoreSet(id, new IpcKey(status.sem_perm.__key), (int)status.sem_nsems, wasCreated: false);
    }

    /// <summary>
    /// Subtracts <paramref name="count"/> from semaphore <paramref name="index"/>, waiting while its value is smaller
    /// (P, "acquire").
    /// </summary>
    /// <param name="index">The semaphore, 0..Count-1.</param>
    /// <param name="count">How much to take, 1..32767.</param>
    /// <param name="timeout">How long to wait; null or <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait (observed within about 50 ms).</param>
    /// <param name="undo">SEM_UNDO: give it back if this process exits without releasing (see the remarks on <see cref="SemaphoreSet"/>).</param>
    /// <exception cref="TimeoutException">The value stayed too small for <paramref name="timeout"/>.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="IpcObjectRemovedException">The set was removed.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1068:CancellationToken parameters must come last", Justification = "Shape fixed by the issue 3 API contract: undo is an optional trailing flag.")]
    public unsafe void Wait(int index, short count = 1, TimeSpan? timeout = null, CancellationToken cancellationToken = default, bool undo = true)
    {
        CheckIndex(index);
        CheckPositive(count);
        Sem.sembuf op = MakeOp(index, (short)-count, undo, noWait: false);
        Execute(&op, 1, timeout, cancellationToken);
    }

    /// <summary>Subtracts <paramref name="count"/> if that is possible right now (IPC_NOWAIT); never blocks.</summary>
    /// <param name="index">The semaphore, 0..Count-1.</param>
    /// <param name="count">How much to take, 1..32767.</param>
    /// <param name="undo">SEM_UNDO, as for <see cref="Wait"/>.</param>
    /// <returns>True when taken; false when the value was too small.</returns>
    public unsafe bool TryWait(int index, short count = 1, bool undo = true)
    {
        CheckIndex(index);
        CheckPositive(count);
        Sem.sembuf op = MakeOp(index, (short)-count, undo, noWait: true);
        return Execute(&op, 1, timeout: null, CancellationToken.None);
    }

    /// <summary>Adds <paramref name="count"/> to semaphore <paramref name="index"/> (V, "release"); never blocks.</summary>
    /// <param name="index">The semaphore, 0..Count-1.</param>
    /// <param name="count">How much to add, 1..32767.</param>
    /// <param name="undo">SEM_UNDO; must match the setting the matching <see cref="Wait"/> used.</param>
    /// <exception cref="ArgumentOutOfRangeException">The value would exceed 32767, or the undo adjustment its range.</exception>
    public unsafe void Release(int index, short count = 1, bool undo = true)
    {
        CheckIndex(index);
        CheckPositive(count);
        Sem.sembuf op = MakeOp(index, count, undo, noWait: false);
        Execute(&op, 1, timeout: null, CancellationToken.None);
    }

    /// <summary>Waits until semaphore <paramref name="index"/> is zero (a semop with delta 0).</summary>
    /// <param name="index">The semaphore, 0..Count-1.</param>
    /// <param name="timeout">How long to wait; null waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="TimeoutException">The value stayed non-zero for <paramref name="timeout"/>.</exception>
    public unsafe void WaitForZero(int index, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        CheckIndex(index);
        Sem.sembuf op = MakeOp(index, 0, undo: false, noWait: false);
        Execute(&op, 1, timeout, cancellationToken);
    }

    /// <summary>
    /// Takes a lock: <see cref="Wait"/> for 1 on <paramref name="index"/>, released when the returned scope is disposed.
    /// </summary>
    /// <param name="index">The semaphore used as a lock (initial value 1).</param>
    /// <param name="timeout">How long to wait; null waits forever.</param>
    /// <param name="undo">SEM_UNDO (default): a process that dies holding the lock releases it.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The held lock, for <c>using</c>.</returns>
    public SemaphoreLockScope Lock(int index, TimeSpan? timeout = null, bool undo = true, CancellationToken cancellationToken = default)
    {
        Wait(index, 1, timeout, cancellationToken, undo);
        return new SemaphoreLockScope(this, index, undo);
    }

    /// <summary>
    /// Performs all <paramref name="operations"/> atomically (one semop): either every one of them happens, or none
    /// does and the call waits until all can. Operations on the same semaphore apply in order.
    /// </summary>
    /// <param name="operations">1..semopm operations.</param>
    /// <param name="timeout">How long to wait; null waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="TimeoutException">They could not all happen within the timeout, or an operation has NoWait and would block.</exception>
    /// <exception cref="ArgumentException">More operations than semopm.</exception>
    public unsafe void Apply(ReadOnlySpan<SemaphoreOperation> operations, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        if (!ApplyCore(operations, forceNoWait: false, timeout, cancellationToken))
        {
            throw IpcErrors.SemaphoreTimeout(Call(SemopName), Describe(operations.Length, operations[0].Index, operations[0].Delta) + ", with NoWait set", TimeSpan.Zero);
        }
    }

    /// <summary>Performs all <paramref name="operations"/> atomically if they can all happen right now (IPC_NOWAIT on each).</summary>
    /// <param name="operations">1..semopm operations.</param>
    /// <returns>True when done; false when one of them would have had to wait (and so none happened).</returns>
    public bool TryApply(ReadOnlySpan<SemaphoreOperation> operations) =>
        ApplyCore(operations, forceNoWait: true, timeout: null, CancellationToken.None);

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
                throw IpcErrors.ForSemaphoreControl(Errno.Last, Call("semctl(GETALL)"));
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

    /// <summary>Reads everything the kernel keeps about the set (IPC_STAT).</summary>
    /// <returns>A snapshot of <c>struct semid_ds</c>.</returns>
    /// <exception cref="IpcObjectRemovedException">The set no longer exists.</exception>
    public SemaphoreSetInfo Stat()
    {
        if (Sem.Stat(Id, Ipc.IPC_STAT, out Sem.SemaphoreSetStatus status) < 0)
        {
            throw IpcErrors.ForSemaphoreControl(Errno.Last, Call("semctl(IPC_STAT)"));
        }

        return ToInfo(Id, status);
    }

    /// <summary>Changes the permission bits (IPC_SET). Only the owner, the creator or root may.</summary>
    /// <param name="mode">The new permission bits (0777 at most).</param>
    public void SetMode(UnixFileMode mode)
    {
        int bits = IpcTime.FromPermissions(mode, nameof(mode));
        SetPermissions((uint)bits, userId: null, groupId: null);
    }

    /// <summary>Changes the owner (IPC_SET). Only the owner, the creator or root may.</summary>
    /// <param name="userId">The new owner's user id.</param>
    /// <param name="groupId">The new owner's group id.</param>
    public void SetOwner(uint userId, uint groupId) => SetPermissions(mode: null, userId, groupId);

    /// <summary>
    /// Removes the set at once (IPC_RMID). Unlike a segment it does not linger: every process waiting on it wakes with
    /// <see cref="IpcObjectRemovedException"/>, and later calls on it fail the same way.
    /// </summary>
    /// <exception cref="IpcAccessDeniedException">Only the owner, the creator or root may remove it.</exception>
    /// <exception cref="IpcObjectRemovedException">It was removed already.</exception>
    public void Remove()
    {
        if (Sem.semctl(Id, 0, Ipc.IPC_RMID, 0) < 0)
        {
            throw IpcErrors.ForControl(Errno.Last, Call("semctl(IPC_RMID)"), existed: true);
        }
    }

    /// <summary>Removes the set with this id (IPC_RMID), as <c>ipcrm -s</c> does.</summary>
    /// <param name="id">The semid.</param>
    public static void Remove(int id)
    {
        if (Sem.semctl(id, 0, Ipc.IPC_RMID, 0) < 0)
        {
            throw IpcErrors.ForControl(Errno.Last, new IpcCall(IpcObjectKind.SemaphoreSet, "semctl(IPC_RMID)", Id: id), existed: false);
        }
    }

    /// <summary>The host's semaphore limits (IPC_INFO) and current usage (SEM_INFO).</summary>
    /// <returns>semmni, semmns, semmsl, semopm, semvmx, semaem and the sets and semaphores in use.</returns>
    public static unsafe SemaphoreLimits GetLimits()
    {
        Sem.seminfo info;
        Sem.seminfo usage;
        if (Sem.semctl(0, 0, Ipc.IPC_INFO, (nint)(&info)) < 0)
        {
            IpcErrors.ThrowLast(new IpcCall(IpcObjectKind.SemaphoreSet, "semctl(IPC_INFO)"));
        }

        int highest = Sem.semctl(0, 0, Sem.SEM_INFO, (nint)(&usage));
        if (highest < 0)
        {
            IpcErrors.ThrowLast(new IpcCall(IpcObjectKind.SemaphoreSet, "semctl(SEM_INFO)"));
        }

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
    /// it ignores read permission as /proc/sysvipc/sem does; SEM_STAT on kernels before 4.17).
    /// </summary>
    /// <returns>One snapshot per set, ordered by id.</returns>
    public static unsafe IReadOnlyList<SemaphoreSetInfo> GetAll()
    {
        Sem.seminfo usage;
        int maxIndex = Sem.semctl(0, 0, Sem.SEM_INFO, (nint)(&usage));
        if (maxIndex < 0)
        {
            IpcErrors.ThrowLast(new IpcCall(IpcObjectKind.SemaphoreSet, "semctl(SEM_INFO)"));
        }

        return IpcEnumeration.Collect(maxIndex, static (index, any) =>
        {
            int id = Sem.Stat(index, any ? Sem.SEM_STAT_ANY : Sem.SEM_STAT, out Sem.SemaphoreSetStatus status);
            return id >= 0 ? ToInfo(id, status) : null;
        });
    }

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"semaphore set id {Id} key {Key} ({Count} semaphores)");

    /// <summary>The id of the set with this key, or null if there is none (semget without flags; no initialization wait).</summary>
    internal static int? FindId(IpcKey key)
    {
        int id = Sem.semget(key.Value, 0, 0);
        return id >= 0 ? id : null;
    }

    internal IpcCall Call(string operation) => new(IpcObjectKind.SemaphoreSet, operation, Key, Id);

    private unsafe bool ApplyCore(ReadOnlySpan<SemaphoreOperation> operations, bool forceNoWait, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (operations.IsEmpty)
        {
            throw new ArgumentException("At least one operation is needed.", nameof(operations));
        }

        Sem.sembuf[]? rented = null;
        Span<Sem.sembuf> buffer = operations.Length <= StackOperations
            ? stackalloc Sem.sembuf[StackOperations]
            : (rented = ArrayPool<Sem.sembuf>.Shared.Rent(operations.Length));
        try
        {
            for (int i = 0; i < operations.Length; i++)
            {
                SemaphoreOperation op = operations[i];
                CheckIndex(op.Index);
                buffer[i] = MakeOp(op.Index, op.Delta, op.Undo, forceNoWait || op.NoWait);
            }

            fixed (Sem.sembuf* p = buffer)
            {
                return Execute(p, operations.Length, timeout, cancellationToken);
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<Sem.sembuf>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// The one place that calls semop/semtimedop. Returns false only when an operation has IPC_NOWAIT and would
    /// block; throws on timeout, cancellation and errors; retries EINTR.
    /// </summary>
    private unsafe bool Execute(Sem.sembuf* ops, int count, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        bool infinite = timeout is null || timeout.GetValueOrDefault() == Timeout.InfiniteTimeSpan;
        TimeSpan limit = infinite ? TimeSpan.Zero : CheckTimeout(timeout.GetValueOrDefault());
        cancellationToken.ThrowIfCancellationRequested();
        bool cancellable = cancellationToken.CanBeCanceled;
        bool plain = infinite && !cancellable;
        long start = plain ? 0 : Stopwatch.GetTimestamp();

        while (true)
        {
            int result;
            if (plain)
            {
                result = Sem.semop(Id, ops, (nuint)count);
            }
            else
            {
                TimeSpan slice = s_slice;
                if (!infinite)
                {
                    TimeSpan left = limit - Stopwatch.GetElapsedTime(start);
                    left = left < TimeSpan.Zero ? TimeSpan.Zero : left;
                    slice = cancellable && left > s_slice ? s_slice : left;
                }

                Sem.timespec ts;
                ts.tv_sec = slice.Ticks / TimeSpan.TicksPerSecond;
                ts.tv_nsec = slice.Ticks % TimeSpan.TicksPerSecond * 100;
                result = Sem.semtimedop(Id, ops, (nuint)count, &ts);
            }

            if (result == 0)
            {
                return true;
            }

            int errno = Errno.Last;
            if (errno == Errno.EINTR)
            {
                cancellationToken.ThrowIfCancellationRequested();
                continue;
            }

            if (errno == Errno.EAGAIN)
            {
                if (HasNoWait(ops, count))
                {
                    return false;
                }

                cancellationToken.ThrowIfCancellationRequested();
                if (!infinite && Stopwatch.GetElapsedTime(start) >= limit)
                {
                    ThrowTimeout(ops, count, limit);
                }

                continue;
            }

            ThrowOperationFailed(errno, plain ? SemopName : SemtimedopName);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private unsafe void ThrowTimeout(Sem.sembuf* ops, int count, TimeSpan limit) =>
        throw IpcErrors.SemaphoreTimeout(Call(SemtimedopName), Describe(count, ops[0].sem_num, ops[0].sem_op), limit);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowOperationFailed(int errno, string operation)
    {
        bool exists = errno != Errno.EINVAL || Sem.Stat(Id, Ipc.IPC_STAT, out _) >= 0 || Errno.Last == Errno.EACCES;
        throw IpcErrors.ForSemaphoreOperation(errno, Call(operation), exists, Count);
    }

    private static string Describe(int count, int index, int delta)
    {
        if (count > 1)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{count} atomic operations, the first on semaphore {index}");
        }

        return delta switch
        {
            > 0 => string.Create(CultureInfo.InvariantCulture, $"release {delta} on semaphore {index}"),
            < 0 => string.Create(CultureInfo.InvariantCulture, $"wait for {-delta} on semaphore {index}"),
            _ => string.Create(CultureInfo.InvariantCulture, $"wait for zero on semaphore {index}"),
        };
    }

    private static unsafe bool HasNoWait(Sem.sembuf* ops, int count)
    {
        for (int i = 0; i < count; i++)
        {
            if ((ops[i].sem_flg & Ipc.IPC_NOWAIT) != 0)
            {
                return true;
            }
        }

        return false;
    }

    private static Sem.sembuf MakeOp(int index, short delta, bool undo, bool noWait) => new()
    {
        sem_num = (ushort)index,
        sem_op = delta,
        sem_flg = (short)((undo ? Sem.SEM_UNDO : 0) | (noWait ? Ipc.IPC_NOWAIT : 0)),
    };

    private int Control(int index, int command, int argument, string operation)
    {
        CheckIndex(index);
        int result = Sem.semctl(Id, index, command, argument);
        if (result < 0)
        {
            throw IpcErrors.ForSemaphoreControl(Errno.Last, Call(operation));
        }

        return result;
    }

    private void SetPermissions(uint? mode, uint? userId, uint? groupId)
    {
        if (Sem.Stat(Id, Ipc.IPC_STAT, out Sem.SemaphoreSetStatus status) < 0)
        {
            throw IpcErrors.ForSemaphoreControl(Errno.Last, Call("semctl(IPC_STAT)"));
        }

        // IPC_SET reads only uid, gid and the permission bits of mode.
        Ipc.ipc_perm perm = status.sem_perm;
        perm.mode = mode ?? (perm.mode & 0x1FF);
        perm.uid = userId ?? perm.uid;
        perm.gid = groupId ?? perm.gid;
        if (Sem.Set(Id, perm) < 0)
        {
            throw IpcErrors.ForSemaphoreControl(Errno.Last, Call("semctl(IPC_SET)"));
        }
    }

    /// <summary>SETALL, then the publishing semop that sets sem_otime (see the remarks). Removes the set on failure.</summary>
    private static unsafe void Initialize(int id, IpcKey key, ReadOnlySpan<short> values)
    {
        try
        {
            SetAll(id, key, values);

            // +1 then -1 on semaphore 0 in one atomic call: always possible, leaves the value as it was, and as the
            // set's first semop it moves sem_otime off 0. At SEMVMX the +1 would be ERANGE, so go -1 then +1 instead.
            // IPC_NOWAIT: if another process meddled with the unpublished set, fail rather than hang.
            short first = values[0] < Sem.SEMVMX ? (short)1 : (short)-1;
            Sem.sembuf* ops = stackalloc Sem.sembuf[2];
            ops[0] = MakeOp(0, first, undo: false, noWait: true);
            ops[1] = MakeOp(0, (short)-first, undo: false, noWait: true);
            while (Sem.semop(id, ops, 2) < 0)
            {
                int errno = Errno.Last;
                if (errno != Errno.EINTR)
                {
                    IpcErrors.Throw(errno, new IpcCall(IpcObjectKind.SemaphoreSet, "semop (initialization)", key, id));
                }
            }
        }
        catch
        {
            // Never leave a set behind that openers would wait on in vain.
            _ = Sem.semctl(id, 0, Ipc.IPC_RMID, 0);
            throw;
        }
    }

    private static unsafe void SetAll(int id, IpcKey key, ReadOnlySpan<short> values)
    {
        ushort[]? rented = null;
        Span<ushort> buffer = values.Length <= 256 ? stackalloc ushort[256] : (rented = ArrayPool<ushort>.Shared.Rent(values.Length));
        try
        {
            for (int i = 0; i < values.Length; i++)
            {
                buffer[i] = (ushort)values[i];
            }

            fixed (ushort* p = buffer)
            {
                if (Sem.semctl(id, 0, Sem.SETALL, (nint)p) < 0)
                {
                    throw IpcErrors.ForSemaphoreControl(Errno.Last, new IpcCall(IpcObjectKind.SemaphoreSet, "semctl(SETALL)", key, id));
                }
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<ushort>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Polls IPC_STAT until sem_otime is non-zero; returns the number of semaphores.</summary>
    private static int WaitUntilInitialized(int id, IpcKey key, TimeSpan timeout)
    {
        long start = Stopwatch.GetTimestamp();
        int sleep = 1;
        while (true)
        {
            if (Sem.Stat(id, Ipc.IPC_STAT, out Sem.SemaphoreSetStatus status) < 0)
            {
                throw IpcErrors.ForSemaphoreControl(Errno.Last, new IpcCall(IpcObjectKind.SemaphoreSet, "semctl(IPC_STAT)", key, id));
            }

            if (status.sem_otime != 0)
            {
                return (int)status.sem_nsems;
            }

            if (Stopwatch.GetElapsedTime(start) >= timeout)
            {
                throw new SemaphoreSetNotInitializedException(
                    string.Create(CultureInfo.InvariantCulture,
                        $"The semaphore set with key {key} (id {id}) exists but was never initialized: no semop happened on it within {timeout.TotalMilliseconds:0} ms (sem_otime is 0). Its creator probably died between semget and its first operation. Remove it (`shmkit sem rm --id {id}` or `ipcrm -s {id}`) and create it again."),
                    key,
                    id);
            }

            Thread.Sleep(sleep);
            sleep = Math.Min(sleep * 2, 20);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckIndex(int index)
    {
        if ((uint)index >= (uint)Count)
        {
            ThrowBadIndex(index);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowBadIndex(int index) =>
        throw new ArgumentOutOfRangeException(nameof(index), index,
            string.Create(CultureInfo.InvariantCulture, $"Semaphore index {index} is outside the {Call(string.Empty).Describe()}, which has {Count} semaphores (valid indexes 0..{Count - 1})."));

    private static void CheckPositive(short count)
    {
        if (count <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count,
                "The count must be 1..32767 (to wait for zero use WaitForZero; for mixed operations use Apply).");
        }
    }

    private static TimeSpan CheckTimeout(TimeSpan timeout)
    {
        if (timeout < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout,
                "The timeout must be zero or positive, or Timeout.InfiniteTimeSpan (or null) to wait forever.");
        }

        return timeout;
    }

    private static TimeSpan CheckInitializationTimeout(TimeSpan? timeout)
    {
        TimeSpan value = timeout ?? s_defaultInitializationTimeout;
        if (value < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), value, "The initialization timeout must be zero or positive.");
        }

        return value;
    }

    private static void CheckInitialValues(ReadOnlySpan<short> initialValues)
    {
        if (initialValues.IsEmpty)
        {
            throw new ArgumentException("A semaphore set needs at least one semaphore: pass one initial value per semaphore.", nameof(initialValues));
        }

        CheckValues(initialValues, nameof(initialValues));
    }

    private static void CheckValues(ReadOnlySpan<short> values, string parameterName)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i] < 0)
            {
                throw new ArgumentOutOfRangeException(parameterName,
                    string.Create(CultureInfo.InvariantCulture, $"Semaphore values must be 0..{Sem.SEMVMX}; value {i} is {values[i]}."));
            }
        }
    }

    private static void CheckNotPrivate(IpcKey key)
    {
        if (key.IsPrivate)
        {
            throw new ArgumentException("IpcKey.Private always creates a new set: use CreatePrivate, or OpenById with the id of an existing one.", nameof(key));
        }
    }

    private static unsafe void ThrowSemget(int errno, IpcKey key, int count)
    {
        var call = new IpcCall(IpcObjectKind.SemaphoreSet, "semget", key);
        string? detail = null;
        if (errno == Errno.EINVAL)
        {
            int existing = key.IsPrivate ? -1 : Sem.semget(key.Value, 0, 0);
            if (existing >= 0 && Sem.Stat(existing, Ipc.IPC_STAT, out Sem.SemaphoreSetStatus status) >= 0 && (int)status.sem_nsems < count)
            {
                detail = string.Create(CultureInfo.InvariantCulture,
                    $"the set exists with {status.sem_nsems} semaphores, fewer than the {count} asked. Ask for at most {status.sem_nsems}, or remove it (`shmkit sem rm --id {existing}`) and create it again.");
            }
            else
            {
                Sem.seminfo info;
                string limit = Sem.semctl(0, 0, Ipc.IPC_INFO, (nint)(&info)) >= 0
                    ? string.Create(CultureInfo.InvariantCulture, $"semmsl={info.semmsl}")
                    : "semmsl";
                detail = string.Create(CultureInfo.InvariantCulture,
                    $"{count} semaphores is more than one set may hold ({limit}). Ask for fewer, or raise kernel.sem.");
            }
        }

        IpcErrors.Throw(errno, call, detail);
    }

    private static SemaphoreSetInfo ToInfo(int id, in Sem.SemaphoreSetStatus status) => new()
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
