using System.Globalization;
using System.Runtime.CompilerServices;
using ShmKit.Interop;
using SemControl = ShmKit.IpcControl<ShmKit.SemaphoreSetKind, ShmKit.SemaphoreSetStatus>;

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
/// semaphore 0 starts non-zero. Sets made by other programs that set values without a semop (<c>ipcmk -S</c>, much
/// C code) never pass that check: open those with <see cref="OpenById"/> or <see cref="OpenWithoutInitializationWait"/>.</para>
/// <para><b>What opening asks of the kernel.</b> Only what the caller's operations need: a semop needs alter
/// permission, IPC_SET and IPC_RMID need ownership, and none of them needs read permission. So a set whose mode lets
/// this user alter but not read it (0200, 0602) can be opened, operated on and, by its owner, removed. The
/// initialization check and <see cref="Count"/> read sem_otime and sem_nsems with IPC_STAT or, when this user may not
/// read the set, SEM_STAT_ANY (as ipcs does).</para>
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
/// <see cref="ArgumentException"/>. An operation that can never complete (taking more than SEMVMX, or a wait for zero
/// no value can reach): <see cref="ArgumentOutOfRangeException"/>, before anything waits. Permission:
/// <see cref="IpcAccessDeniedException"/> (waiting for zero and reading values need read permission, changing values
/// needs alter (write) permission).</para>
/// </remarks>
public sealed partial class SemaphoreSet
{
    /// <summary>The default permission: owner read and write (0600).</summary>
    public const UnixFileMode DefaultMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private static readonly TimeSpan s_defaultInitializationTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The number of semaphores, or 0 until it is read from the kernel (a set has at least one). Written once by
    /// whichever thread reads it first (all read the same value: it is fixed at creation), read with Volatile.
    /// </summary>
    private int _count;

    private SemaphoreSet(int id, IpcKey key, int count, bool wasCreated)
    {
        Id = id;
        Key = key;
        _count = count;
        WasCreated = wasCreated;
    }

    /// <summary>The set's id (semid), valid in every process of the host.</summary>
    public int Id { get; }

    /// <summary>The key it was created or opened with (<see cref="IpcKey.Private"/> for private sets).</summary>
    public IpcKey Key { get; }

    /// <summary>
    /// The number of semaphores in the set (fixed at creation). Known after creating and after <see cref="Open"/>;
    /// after <see cref="OpenWithoutInitializationWait"/> it is read from the kernel on first use (IPC_STAT, or
    /// SEM_STAT_ANY when this user may not read the set).
    /// </summary>
    /// <exception cref="IpcAccessDeniedException">The count was not known yet, this user may not read the set, and the kernel has no SEM_STAT_ANY (before Linux 4.17).</exception>
    public int Count
    {
        get
        {
            int count = Volatile.Read(ref _count);
            if (count == 0)
            {
                count = (int)SemControl.StatMetadata(Id, Key, existed: true).sem_nsems;
                Volatile.Write(ref _count, count);
            }

            return count;
        }
    }

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
    /// <param name="mode">Permission bits; default 0600. The owner needs alter (write) permission to initialize the set; read permission is not needed.</param>
    /// <returns>The new set.</returns>
    /// <exception cref="IpcObjectExistsException">A set with this key exists.</exception>
    /// <exception cref="IpcSizeException">More semaphores than semmsl.</exception>
    /// <exception cref="IpcLimitExceededException">Out of set ids (semmni) or semaphores (semmns).</exception>
    public static SemaphoreSet CreateNew(IpcKey key, ReadOnlySpan<short> initialValues, UnixFileMode mode = DefaultMode)
    {
        CheckInitialValues(initialValues);
        int flags = Ipc.IPC_CREAT | Ipc.IPC_EXCL | IpcTime.FromPermissions(mode, nameof(mode));
        int id = SemControl.Get(key, initialValues.Length, flags);
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

        // Exclusive create first: whoever wins initializes; everyone else opens (asking for no permission) and waits
        // for the winner.
        var (id, created) = SemControl.OpenOrCreate(key, initialValues.Length, IpcTime.FromPermissions(mode, nameof(mode)), openFlags: 0);
        if (created)
        {
            Initialize(id, key, initialValues);
            return new SemaphoreSet(id, key, initialValues.Length, wasCreated: true);
        }

        return new SemaphoreSet(id, key, WaitUntilInitialized(id, key, timeout), wasCreated: false);
    }

    /// <summary>Opens the existing set with this key, waiting (up to the timeout) until its creator has initialized it.</summary>
    /// <param name="key">The key (not <see cref="IpcKey.Private"/>).</param>
    /// <param name="initializationTimeout">How long to wait for the creator to finish initializing; default 5 s.</param>
    /// <returns>The set.</returns>
    /// <exception cref="IpcObjectNotFoundException">No set has this key.</exception>
    /// <exception cref="SemaphoreSetNotInitializedException">
    /// No semop has happened on the set within the timeout. A set that another program made (<c>ipcmk -S</c>) looks
    /// like that: open it with <see cref="OpenWithoutInitializationWait"/> or <see cref="OpenById"/>.
    /// </exception>
    public static SemaphoreSet Open(IpcKey key, TimeSpan? initializationTimeout = null)
    {
        CheckNotPrivate(key);
        TimeSpan timeout = CheckInitializationTimeout(initializationTimeout);
        int id = SemControl.Get(key, 0, 0);
        return new SemaphoreSet(id, key, WaitUntilInitialized(id, key, timeout), wasCreated: false);
    }

    /// <summary>
    /// Opens the existing set with this key as it is, without the initialization handshake (semget only; nothing
    /// waits for sem_otime). For sets made by other programs that set their values without a semop (<c>ipcmk -S</c>,
    /// C code using SETALL), or when the caller knows the set is initialized. A set opened this way while a ShmKit
    /// creator is still initializing it may show values the creator has not set yet.
    /// </summary>
    /// <param name="key">The key (not <see cref="IpcKey.Private"/>).</param>
    /// <returns>The set; its <see cref="Count"/> is read from the kernel when first needed.</returns>
    /// <exception cref="IpcObjectNotFoundException">No set has this key.</exception>
    public static SemaphoreSet OpenWithoutInitializationWait(IpcKey key)
    {
        CheckNotPrivate(key);
        return new SemaphoreSet(SemControl.Get(key, 0, 0), key, count: 0, wasCreated: false);
    }

    /// <summary>Opens a set by id (from <c>ipcs -s</c>, <see cref="GetAll"/>, or another process). Does not wait for initialization.</summary>
    /// <param name="id">The semid.</param>
    /// <returns>The set, with its key and count read from the kernel (IPC_STAT, or SEM_STAT_ANY when this user may not read it).</returns>
    /// <exception cref="IpcObjectNotFoundException">No set has this id.</exception>
    public static SemaphoreSet OpenById(int id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        SemaphoreSetStatus status = SemControl.StatMetadata(id, key: null, existed: false);
        return new SemaphoreSet(id, new IpcKey(status.sem_perm.__key), (int)status.sem_nsems, wasCreated: false);
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        int count = Volatile.Read(ref _count);
        return count > 0
            ? string.Create(CultureInfo.InvariantCulture, $"semaphore set id {Id} key {Key} ({count} semaphores)")
            : string.Create(CultureInfo.InvariantCulture, $"semaphore set id {Id} key {Key}");
    }

    /// <summary>The id of the set with this key, or null if there is none (semget without flags; no initialization wait).</summary>
    internal static int? FindId(IpcKey key)
    {
        IpcAbi.EnsureVerified();
        int id = Sem.semget(key.Value, 0, 0);
        return id >= 0 ? id : null;
    }

    internal IpcCall Call(string operation) => new(IpcObjectKind.SemaphoreSet, operation, Key, Id);

    /// <summary>
    /// Checks an index against <see cref="Count"/> when the count is known or can be learned; when it cannot (a set this
    /// user may not read, on a kernel without SEM_STAT_ANY), the kernel checks it (EFBIG).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckIndex(int index)
    {
        int count = Volatile.Read(ref _count);
        if ((uint)index >= (uint)count)
        {
            CheckIndexSlow(index);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CheckIndexSlow(int index)
    {
        int? count = TryGetCount();
        if (count is int n && (uint)index >= (uint)n)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index,
                string.Create(CultureInfo.InvariantCulture, $"Semaphore index {index} is outside the {Call(string.Empty).Describe()}, which has {n} semaphores (valid indexes 0..{n - 1})."));
        }
    }

    /// <summary>The count if it is known or can be read now; null if this user may not learn it.</summary>
    private int? TryGetCount()
    {
        int count = Volatile.Read(ref _count);
        if (count == 0 && SemControl.TryStatMetadata(Id, out SemaphoreSetStatus status, out _))
        {
            count = (int)status.sem_nsems;
            Volatile.Write(ref _count, count);
        }

        return count == 0 ? null : count;
    }

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
}
