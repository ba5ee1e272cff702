using System.Globalization;

namespace ShmKit;

/// <summary>
/// One System V segment holding many named structures (locks, events, queues, raw blocks), created or found by name
/// from any process, like Boost.Interprocess's managed_shared_memory and its <c>find_or_construct</c>. It also keeps a
/// table of the processes that have it open, with a liveness token each, so that a dead peer is recognized even when
/// its pid was reused or it lives in another pid namespace.
/// </summary>
/// <remarks>
/// <para><b>Kernel objects.</b> A segment and a semaphore set with the same key (for a private segment the set is
/// private too and its id is stored in the segment). The set holds one SEM_UNDO liveness token per participant slot:
/// a registered process holds +1 on its slot's semaphore, and the kernel takes it back when the process dies, however
/// it dies. Both objects get <see cref="ManagedSegmentOptions.Mode"/> (default 0600).</para>
/// <para><b>Layout and publication.</b> A 64-byte versioned header (magic "SHMK", layout version, kind, size, state,
/// creator identity, checksum), a control block, the participant table, the directory and a heap; see
/// docs/ARCHITECTURE.md, "Structures in shared memory", and docs/LAYOUT.md. The creator claims the header with a CAS, fills everything,
/// and publishes it Ready with a full fence and a futex wake. An opener that arrives early waits (timeout,
/// cancellation) and touches nothing before Ready. Every offset and size read from the segment is validated against
/// the real segment size (IPC_STAT), and every scan is bounded, so garbage is a <see cref="ShmLayoutException"/>,
/// never a crash or a hang.</para>
/// <para><b>A creator that dies while initializing</b> leaves the header Initializing with its identity (and, from
/// the moment its token set exists, a SEM_UNDO token of its own, so that its death is seen from other pid namespaces
/// too): <see cref="Open"/>, blocked or arriving later, sees that it is dead, marks the segment poisoned and throws
/// <see cref="ShmStructurePoisonedException"/>; <see cref="OpenOrCreate"/> takes the initialization over (exactly one
/// of several racing openers does) and re-initializes it, removing the dead creator's token set.</para>
/// <para><b>Lifetime.</b> Opening registers this process in the participant table; <see cref="Dispose"/>
/// unregisters and detaches. Dispose never removes anything, not even for the creator: the segment is meant to
/// outlive any one process. Call <see cref="Remove"/> (any process with permission) to delete both kernel objects;
/// processes still attached keep working on their mapping until they dispose.</para>
/// <para><b>Thread safety.</b> All members may be called from any thread. Disposing while another thread is inside a
/// call is safe: every operation holds a reference on the mapping for its duration, so the pages stay mapped until it
/// returns (later calls throw <see cref="ObjectDisposedException"/>).</para>
/// </remarks>
public sealed partial class ManagedSegment : IDisposable
{
    private static readonly TimeSpan s_defaultTimeout = TimeSpan.FromSeconds(5);

    private readonly MappedRegion _region;
    private readonly ParticipantTable _participants;
    private readonly ManagedDirectory _directory;
    private readonly HeapAllocator _heap;
    private readonly HeaderSnapshot _header;
    private ParticipantRef _self;
    private int _disposed;

    /// <summary>The key of the segment and of its token set (<see cref="IpcKey.Private"/> for private ones).</summary>
    public IpcKey Key => Segment.Key;

    /// <summary>The segment's id.</summary>
    public int Id => Segment.Id;

    /// <summary>The segment's size in bytes (from the kernel).</summary>
    public long Size => Segment.Size;

    /// <summary>The System V segment.</summary>
    public SharedMemorySegment Segment { get; }

    /// <summary>The semaphore set of liveness tokens (one per participant slot).</summary>
    public SemaphoreSet LivenessTokens { get; }

    /// <summary>
    /// The mapping, for reading and writing blocks (<see cref="OpenOrCreateBlock"/>) at their offsets. Owned by this
    /// object: do not dispose it; <see cref="Dispose"/> detaches it.
    /// </summary>
    public SharedMemoryAttachment Attachment { get; }

    /// <summary>True when this call created (or, after a dead creator, re-initialized) the managed segment.</summary>
    public bool WasCreated { get; }

    /// <summary>How many processes may be registered at once.</summary>
    public int ParticipantCapacity => _participants.Capacity;

    /// <summary>How many named structures the directory holds.</summary>
    public int DirectoryCapacity => _directory.Capacity;

    /// <summary>The heap's size in bytes (what structures and blocks may use in all).</summary>
    public long HeapCapacity => _heap.Capacity;

    /// <summary>Heap bytes allocated so far (128-byte aligned allocations; never freed).</summary>
    public long HeapUsed => _heap.Used;

    /// <summary>The pid of the process that initialized it (as that process saw itself).</summary>
    public int CreatorProcessId => _header.CreatorPid;

    /// <summary>The initializer's start time, in clock ticks since boot.</summary>
    public long CreatorStartTime => _header.CreatorStartTime;

    /// <summary>The on-memory layout version (1).</summary>
    public int LayoutVersion => _header.LayoutVersion;

    /// <summary>This process's registration (slot and generation).</summary>
    internal ParticipantRef Participant => _self;

    /// <summary>This process's owner id in this segment: what its locks and directory claims record.</summary>
    internal int OwnerId => _self.OwnerId;

    /// <summary>The mapping, for the primitives (every access through a lease).</summary>
    internal MappedRegion Region => _region;

    internal ShmSite Site => new(Segment.Key, Segment.Id);

    /// <summary>The smallest segment size that holds the tables for <paramref name="options"/> (with an empty heap).</summary>
    /// <param name="options">The capacities; null for the defaults.</param>
    /// <returns>Bytes.</returns>
    public static long GetMinimumSize(ManagedSegmentOptions? options = null)
    {
        options ??= ManagedSegmentOptions.Default;
        options.Validate();
        return ManagedSegmentLayout.HeapStart(options.ParticipantCapacity, options.DirectoryCapacity);
    }

    /// <summary>
    /// Every process registered now, with its liveness judged now (token and /proc). Bounded by the capacity.
    /// </summary>
    /// <returns>One snapshot per Active slot, ordered by slot.</returns>
    /// <exception cref="ShmLayoutException">The table holds garbage.</exception>
    public IReadOnlyList<ManagedSegmentParticipant> GetParticipants() => _participants.Snapshot();

    /// <summary>The directory: every entry that is not free, ordered by index. Bounded by the capacity.</summary>
    /// <returns>One snapshot per entry.</returns>
    /// <exception cref="ShmLayoutException">The directory holds garbage.</exception>
    public IReadOnlyList<ManagedSegmentEntry> GetEntries() => _directory.Snapshot();

    /// <summary>
    /// Finds the block of user bytes called <paramref name="name"/>, or allocates it (zeroed, 128-byte aligned):
    /// Boost's <c>find_or_construct</c> for raw bytes. Safe when many processes ask for the same name at once: exactly
    /// one allocates it, and all get the same offset.
    /// </summary>
    /// <param name="name">1..32 bytes of UTF-8.</param>
    /// <param name="size">Its size in bytes; an existing block must have exactly this size.</param>
    /// <param name="timeout">How long to wait while another process constructs an entry on the way; default 5 s.</param>
    /// <param name="cancellationToken">Cancels the wait (it wakes the waiting thread at once).</param>
    /// <returns>Where the block is.</returns>
    /// <exception cref="ShmNameConflictException">The name exists as another kind or with another size.</exception>
    /// <exception cref="ShmCapacityException">The directory or the heap is full.</exception>
    /// <exception cref="ShmStructureNotReadyException">Another live process was still constructing an entry on the way.</exception>
    public ManagedSegmentBlock OpenOrCreateBlock(string name, long size, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        StructureLocation location = FindOrCreate(name, ShmStructureKind.Block, 1, size, initialize: null, timeout, cancellationToken);
        return new ManagedSegmentBlock(name, location.Offset, location.Length, location.WasCreated);
    }

    /// <summary>Finds the block called <paramref name="name"/>; null when there is none.</summary>
    /// <param name="name">1..32 bytes of UTF-8.</param>
    /// <param name="timeout">How long to wait while another process constructs an entry on the way; default 5 s.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The block, or null.</returns>
    /// <exception cref="ShmNameConflictException">The name exists as another kind.</exception>
    public ManagedSegmentBlock? FindBlock(string name, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Find(name, ShmStructureKind.Block, 1, timeout, cancellationToken) is { } location
            ? new ManagedSegmentBlock(name, location.Offset, location.Length, WasCreated: false)
            : null;

    /// <summary>
    /// Find-or-construct for the primitives: finds <paramref name="name"/> (same kind, layout version and size, else
    /// <see cref="ShmNameConflictException"/>) or allocates <paramref name="size"/> zeroed bytes, runs
    /// <paramref name="initialize"/> on them while the entry is claimed, and publishes the entry.
    /// </summary>
    internal StructureLocation FindOrCreate(string name, ShmStructureKind kind, ushort layoutVersion, long size, StructureInitializer? initialize,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        CheckKind(kind);
        TimeSpan wait = timeout ?? s_defaultTimeout;
        return _directory.FindOrCreate(name, kind, layoutVersion, size, initialize, OwnerId, MonotonicClock.DeadlineAfter(wait), wait, cancellationToken);
    }

    /// <summary>Finds <paramref name="name"/> without constructing; null when absent.</summary>
    internal StructureLocation? Find(string name, ShmStructureKind kind, ushort layoutVersion, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        CheckKind(kind);
        TimeSpan wait = timeout ?? s_defaultTimeout;
        return _directory.Find(name, kind, layoutVersion, MonotonicClock.DeadlineAfter(wait), wait, cancellationToken);
    }

    /// <summary>Whether the participant an owner id names lives (Dead when its slot moved on to another generation).</summary>
    internal ShmParticipantLiveness CheckOwner(int ownerId) => _participants.CheckOwner(ownerId);

    /// <summary>
    /// The participant record an owner id names, without judging its liveness (no system call: what a lock waiter
    /// needs to watch the owner); false when the slot is not Active at that generation, so the owner is gone.
    /// </summary>
    internal bool TryGetOwnerRecord(int ownerId, out ParticipantTable.SlotRecord record) => _participants.TryReadOwner(ownerId, out record);

    /// <summary>The participant an owner id names, while its slot is Active at that generation.</summary>
    internal bool TryGetOwner(int ownerId, out ManagedSegmentParticipant participant) => _participants.TryGetOwner(ownerId, out participant);

    /// <summary>
    /// Removes the segment (IPC_RMID; it disappears when the last process detaches) and the token set (at once).
    /// Either one already gone is not an error. This object stays usable until disposed, but liveness checks of
    /// other processes then rely on /proc only.
    /// </summary>
    /// <exception cref="IpcAccessDeniedException">This user may not remove them.</exception>
    public void Remove()
    {
        try
        {
            Segment.Remove();
        }
        catch (IpcObjectRemovedException)
        {
        }

        try
        {
            LivenessTokens.Remove();
        }
        catch (IpcObjectRemovedException)
        {
        }
    }

    /// <summary>Unregisters this process and detaches. Removes nothing (see <see cref="Remove"/>). Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            _participants.Unregister(_self);
        }
        catch (ObjectDisposedException)
        {
        }

        Attachment.Dispose();
    }

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"managed segment {Site.Describe()}: {Size} bytes, {ParticipantCapacity} participants, {DirectoryCapacity} entries");

    private static void CheckKind(ShmStructureKind kind)
    {
        if (kind is ShmStructureKind.None or ShmStructureKind.ManagedSegment)
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "A directory entry holds a structure kind other than None and ManagedSegment.");
        }
    }
}
