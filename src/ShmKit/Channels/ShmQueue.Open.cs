using System.Globalization;

namespace ShmKit;

/// <summary>Creating and opening queues: in a managed segment under a name, or in a segment of their own.</summary>
public sealed partial class ShmQueue
{
    private const string HeaderWhat = "queue header";
    private const int Enoent = 2;
    private const int Eexist = 17;

    /// <summary>
    /// Finds the queue called <paramref name="name"/> in <paramref name="segment"/>, or creates it. Safe when several
    /// processes race: exactly one creates it, all get the same queue. An existing queue must have the mode and
    /// capacity asked for.
    /// </summary>
    /// <param name="segment">The managed segment (not owned: dispose it after the queue).</param>
    /// <param name="name">1..32 bytes of UTF-8.</param>
    /// <param name="options">Capacity and mode; null for the defaults (1 MiB, SPSC).</param>
    /// <param name="timeout">How long to wait while another process constructs an entry on the way; default 5 s.</param>
    /// <param name="cancellationToken">Cancels that wait.</param>
    /// <returns>The queue (<see cref="WasCreated"/> tells whether this call created it).</returns>
    /// <exception cref="ShmQueueModeMismatchException">It exists with another mode or capacity.</exception>
    /// <exception cref="ShmNameConflictException">The name belongs to another kind of structure.</exception>
    /// <exception cref="ShmCapacityException">The segment's heap or directory is full.</exception>
    /// <exception cref="ShmLayoutException">The queue's header or configuration holds garbage.</exception>
    public static ShmQueue OpenOrCreate(ManagedSegment segment, string name, ShmQueueOptions? options = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        OpenOrCreateCore(segment, name, options, timeout, mustCreate: false, ownsSegment: false, cancellationToken);

    /// <summary>Creates the queue called <paramref name="name"/> in <paramref name="segment"/>; it must not exist yet.</summary>
    /// <param name="segment">The managed segment (not owned).</param>
    /// <param name="name">1..32 bytes of UTF-8.</param>
    /// <param name="options">Capacity and mode; null for the defaults.</param>
    /// <param name="timeout">How long to wait while another process constructs an entry on the way; default 5 s.</param>
    /// <param name="cancellationToken">Cancels that wait.</param>
    /// <returns>The queue.</returns>
    /// <exception cref="IpcObjectExistsException">A queue with this name exists.</exception>
    public static ShmQueue Create(ManagedSegment segment, string name, ShmQueueOptions? options = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        OpenOrCreateCore(segment, name, options, timeout, mustCreate: true, ownsSegment: false, cancellationToken);

    /// <summary>Opens the existing queue called <paramref name="name"/> in <paramref name="segment"/>.</summary>
    /// <param name="segment">The managed segment (not owned).</param>
    /// <param name="name">1..32 bytes of UTF-8.</param>
    /// <param name="expectedMode">The mode the caller needs; null accepts either (see <see cref="Mode"/>).</param>
    /// <param name="timeout">How long to wait while another process constructs it; default 5 s.</param>
    /// <param name="cancellationToken">Cancels that wait.</param>
    /// <returns>The queue.</returns>
    /// <exception cref="IpcObjectNotFoundException">There is no queue with this name.</exception>
    /// <exception cref="ShmQueueModeMismatchException">It has another mode than <paramref name="expectedMode"/>.</exception>
    /// <exception cref="ShmLayoutException">The queue's header or configuration holds garbage.</exception>
    public static ShmQueue Open(ManagedSegment segment, string name, ShmQueueMode? expectedMode = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        OpenCore(segment, name, expectedMode, timeout, ownsSegment: false, cancellationToken);

    /// <summary>
    /// Creates a queue in a segment of its own (a managed segment sized for it, so participants and liveness work the
    /// same way); the key must be free. <see cref="IpcKey.Private"/> makes a private one (open it with <see cref="OpenById"/>).
    /// </summary>
    /// <param name="key">The key of the new segment (and of its token semaphore set).</param>
    /// <param name="options">Capacity, mode, permissions (default 0600), participant slots; null for the defaults.</param>
    /// <returns>The queue; <see cref="Dispose"/> also disposes the segment (it stays until removed).</returns>
    /// <exception cref="IpcObjectExistsException">The key is in use.</exception>
    public static ShmQueue Create(IpcKey key, ShmQueueOptions? options = null)
    {
        options ??= ShmQueueOptions.Default;
        options.Validate();
        ManagedSegmentOptions segmentOptions = SegmentOptions(options);
        ManagedSegment segment = ManagedSegment.Create(key, OwnSegmentSize(options, segmentOptions), segmentOptions);
        try
        {
            return OpenOrCreateCore(segment, OwnSegmentQueueName, options, null, mustCreate: true, ownsSegment: true, default);
        }
        catch
        {
            segment.Remove(); // never published to anyone who could use it
            segment.Dispose();
            throw;
        }
    }

    /// <summary>Opens the queue in the segment with this key, or creates both. Safe when several processes race.</summary>
    /// <param name="key">The segment's key.</param>
    /// <param name="options">Capacity, mode, permissions, participant slots when created; the mode and capacity are checked when it exists.</param>
    /// <param name="timeout">How long to wait for another process that is creating it; default 5 s.</param>
    /// <param name="cancellationToken">Cancels that wait.</param>
    /// <returns>The queue; <see cref="Dispose"/> also disposes the segment.</returns>
    /// <exception cref="ShmQueueModeMismatchException">It exists with another mode or capacity.</exception>
    /// <exception cref="IpcSizeException">The existing segment is smaller than this capacity needs.</exception>
    public static ShmQueue OpenOrCreate(IpcKey key, ShmQueueOptions? options = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        options ??= ShmQueueOptions.Default;
        options.Validate();
        ManagedSegmentOptions segmentOptions = SegmentOptions(options);
        ManagedSegment segment = ManagedSegment.OpenOrCreate(key, OwnSegmentSize(options, segmentOptions), segmentOptions, timeout, cancellationToken);
        try
        {
            return OpenOrCreateCore(segment, OwnSegmentQueueName, options, timeout, mustCreate: false, ownsSegment: true, cancellationToken);
        }
        catch
        {
            segment.Dispose();
            throw;
        }
    }

    /// <summary>Opens the queue in the segment with this key (made by <see cref="Create(IpcKey, ShmQueueOptions?)"/> or <see cref="OpenOrCreate(IpcKey, ShmQueueOptions?, TimeSpan?, CancellationToken)"/>).</summary>
    /// <param name="key">The segment's key.</param>
    /// <param name="expectedMode">The mode the caller needs; null accepts either.</param>
    /// <param name="timeout">How long to wait for its creator; default 5 s.</param>
    /// <param name="cancellationToken">Cancels that wait.</param>
    /// <returns>The queue; <see cref="Dispose"/> also disposes the segment.</returns>
    /// <exception cref="IpcObjectNotFoundException">No segment has this key, or it holds no queue.</exception>
    public static ShmQueue Open(IpcKey key, ShmQueueMode? expectedMode = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        OpenOwn(ManagedSegment.Open(key, timeout, cancellationToken), expectedMode, timeout, cancellationToken);

    /// <summary>Opens the queue in the segment with this id (a private one, or from <c>shmkit list</c>).</summary>
    /// <param name="segmentId">The shmid.</param>
    /// <param name="expectedMode">The mode the caller needs; null accepts either.</param>
    /// <param name="timeout">How long to wait for its creator; default 5 s.</param>
    /// <param name="cancellationToken">Cancels that wait.</param>
    /// <returns>The queue; <see cref="Dispose"/> also disposes the segment.</returns>
    public static ShmQueue OpenById(int segmentId, ShmQueueMode? expectedMode = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        OpenOwn(ManagedSegment.OpenById(segmentId, timeout, cancellationToken), expectedMode, timeout, cancellationToken);

    /// <summary>The size of a segment of its own for these options.</summary>
    internal static long OwnSegmentSize(ShmQueueOptions options, ManagedSegmentOptions segmentOptions) =>
        ManagedSegment.GetMinimumSize(segmentOptions) + QueueLayout.StructureSize(options.Capacity) + 128;

    private static ManagedSegmentOptions SegmentOptions(ShmQueueOptions options) =>
        new() { ParticipantCapacity = options.ParticipantCapacity, DirectoryCapacity = 1, Mode = options.Permissions };

    private static ShmQueue OpenOwn(ManagedSegment segment, ShmQueueMode? expectedMode, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        try
        {
            return OpenCore(segment, OwnSegmentQueueName, expectedMode, timeout, ownsSegment: true, cancellationToken);
        }
        catch
        {
            segment.Dispose();
            throw;
        }
    }

    private static ShmQueue OpenOrCreateCore(ManagedSegment segment, string name, ShmQueueOptions? options, TimeSpan? timeout,
        bool mustCreate, bool ownsSegment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentNullException.ThrowIfNull(name);
        options ??= ShmQueueOptions.Default;
        int max = options.Validate();
        if (!mustCreate && segment.Find(name, ShmStructureKind.Queue, QueueLayout.BodyVersion, timeout, cancellationToken) is { } existing)
        {
            return OpenAt(segment, name, existing, options.Mode, options.Capacity, timeout, ownsSegment, cancellationToken);
        }

        ShmQueueMode mode = options.Mode;
        long capacity = options.Capacity;
        StructureLocation location = segment.FindOrCreate(name, ShmStructureKind.Queue, QueueLayout.BodyVersion, QueueLayout.StructureSize(capacity),
            (in RegionLease lease, long offset, long length) => Initialize(lease, offset, length, mode, capacity, max, segment.Site),
            timeout, cancellationToken);
        if (mustCreate && !location.WasCreated)
        {
            throw new IpcObjectExistsException(
                string.Create(CultureInfo.InvariantCulture, $"A queue called '{name}' exists already in the {segment.Site.Describe()}. Open it (ShmQueue.Open), or use another name."),
                IpcObjectKind.SharedMemory, "create queue", segment.Key, segment.Id, Eexist);
        }

        return OpenAt(segment, name, location, mode, capacity, timeout, ownsSegment, cancellationToken);
    }

    private static ShmQueue OpenCore(ManagedSegment segment, string name, ShmQueueMode? expectedMode, TimeSpan? timeout, bool ownsSegment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentNullException.ThrowIfNull(name);
        StructureLocation location = segment.Find(name, ShmStructureKind.Queue, QueueLayout.BodyVersion, timeout, cancellationToken)
            ?? throw new IpcObjectNotFoundException(
                string.Create(CultureInfo.InvariantCulture, $"The {segment.Site.Describe()} has no queue called '{name}'. Create it (ShmQueue.OpenOrCreate), or check the name (ManagedSegment.GetEntries lists them)."),
                IpcObjectKind.SharedMemory, "open queue", segment.Key, segment.Id, Enoent);
        return OpenAt(segment, name, location, expectedMode, 0, timeout, ownsSegment, cancellationToken);
    }

    /// <summary>Runs on the zeroed heap bytes while the directory entry is claimed: config, then the header published Ready.</summary>
    private static void Initialize(in RegionLease lease, long offset, long length, ShmQueueMode mode, long capacity, int max, in ShmSite site)
    {
        if (!StructureHeader.TryClaim(lease, offset, ShmStructureKind.Queue, out HeaderClaim claim))
        {
            throw new InvalidOperationException("The heap bytes of a new queue were not zero.");
        }

        int headerSize = ShmQueueOptions.HeaderSizeOf(mode);
        lease.Ref<long>(offset + QueueLayout.CapacityOffset) = capacity;
        lease.Ref<int>(offset + QueueLayout.MaxMessageLengthOffset) = max;
        lease.Ref<int>(offset + QueueLayout.RecordHeaderSizeOffset) = headerSize;
        lease.Ref<int>(offset + QueueLayout.RecordAlignmentOffset) = mode == ShmQueueMode.SingleProducerSingleConsumer ? QueueLayout.SpscAlignment : QueueLayout.MpmcAlignment;
        lease.Ref<int>(offset + QueueLayout.BodyVersionOffset) = QueueLayout.BodyVersion;
        StructureHeader.Publish(lease, claim, length, (int)mode, capacity, site, HeaderWhat);
    }

    /// <summary>Validates a Ready queue structure (header, then config, all against the space the directory gives it) and opens it.</summary>
    private static ShmQueue OpenAt(ManagedSegment segment, string name, StructureLocation location, ShmQueueMode? expectedMode, long expectedCapacity,
        TimeSpan? timeout, bool ownsSegment, CancellationToken cancellationToken)
    {
        ShmSite site = segment.Site;
        TimeSpan wait = timeout ?? TimeSpan.FromSeconds(5);
        ShmQueueMode mode;
        long capacity;
        int max;
        using (RegionLease lease = segment.Region.Acquire())
        {
            long offset = location.Offset;
            HeaderSnapshot header = StructureHeader.Acquire(lease, offset, location.Length, ShmStructureKind.Queue, HeaderClaimPolicy.OpenOnly,
                MonotonicClock.DeadlineAfter(wait), wait, site, HeaderWhat, cancellationToken).Header;
            if (header.Flags is not (0 or 1))
            {
                throw ShmErrors.Layout(site, offset + StructureHeader.FlagsOffset, "queue mode (header flags)", "0 (SPSC) or 1 (MPMC)", header.Flags.ToString(CultureInfo.InvariantCulture));
            }

            mode = (ShmQueueMode)header.Flags;
            capacity = header.KindParameter;
            if (capacity < ShmQueueOptions.MinCapacity || capacity > ShmQueueOptions.MaxCapacity || (capacity & (capacity - 1)) != 0)
            {
                throw ShmErrors.Layout(site, offset + StructureHeader.KindParameterOffset, "queue capacity (header kindParameter)", "a power of two from 4096 to 2^30",
                    capacity.ToString(CultureInfo.InvariantCulture));
            }

            if (header.TotalSize != QueueLayout.StructureSize(capacity) || header.TotalSize > location.Length)
            {
                throw ShmErrors.Layout(site, offset + StructureHeader.TotalSizeOffset, "queue totalSize",
                    string.Create(CultureInfo.InvariantCulture, $"{QueueLayout.StructureSize(capacity)} (1024 + capacity), within the entry's {location.Length} bytes"),
                    header.TotalSize.ToString(CultureInfo.InvariantCulture));
            }

            int headerSize = ShmQueueOptions.HeaderSizeOf(mode);
            int alignment = mode == ShmQueueMode.SingleProducerSingleConsumer ? QueueLayout.SpscAlignment : QueueLayout.MpmcAlignment;
            max = lease.Ref<int>(offset + QueueLayout.MaxMessageLengthOffset);
            CheckConfig(site, offset + QueueLayout.CapacityOffset, "queue config capacity", capacity, lease.Ref<long>(offset + QueueLayout.CapacityOffset));
            CheckConfig(site, offset + QueueLayout.RecordHeaderSizeOffset, "queue config recordHeaderSize", headerSize, lease.Ref<int>(offset + QueueLayout.RecordHeaderSizeOffset));
            CheckConfig(site, offset + QueueLayout.RecordAlignmentOffset, "queue config recordAlignment", alignment, lease.Ref<int>(offset + QueueLayout.RecordAlignmentOffset));
            CheckConfig(site, offset + QueueLayout.BodyVersionOffset, "queue config bodyVersion", QueueLayout.BodyVersion, lease.Ref<int>(offset + QueueLayout.BodyVersionOffset));
            int largest = ShmQueueOptions.LargestMessage(capacity, mode);
            if (max < 0 || max > largest)
            {
                throw ShmErrors.Layout(site, offset + QueueLayout.MaxMessageLengthOffset, "queue config maxMessageLength",
                    string.Create(CultureInfo.InvariantCulture, $"0..{largest}"), max.ToString(CultureInfo.InvariantCulture));
            }
        }

        if ((expectedMode is { } want && want != mode) || (expectedCapacity != 0 && expectedCapacity != capacity))
        {
            ShmQueueMode asked = expectedMode ?? mode;
            throw new ShmQueueModeMismatchException(
                string.Create(CultureInfo.InvariantCulture,
                    $"The queue '{name}' in the {site.Describe()} is {mode} with {capacity} bytes; {asked}{(expectedCapacity != 0 ? $" with {expectedCapacity} bytes" : string.Empty)} was asked for. Open it with its own mode (ShmQueue.Open without an expected mode tells it), or use another name."),
                site.Key, site.Id, asked, mode, expectedCapacity, capacity);
        }

        return new ShmQueue(new QueueRing(segment, name, location.Offset, mode, capacity, max), ownsSegment, location.WasCreated);
    }

    private static void CheckConfig(in ShmSite site, long offset, string field, long expected, long found)
    {
        if (expected != found)
        {
            throw ShmErrors.Layout(site, offset, field, expected, found);
        }
    }
}
