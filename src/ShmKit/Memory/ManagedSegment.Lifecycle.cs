using System.Globalization;
using System.Runtime.InteropServices;

namespace ShmKit;

/// <summary>Creating, opening and initializing managed segments.</summary>
public sealed partial class ManagedSegment
{
    private const string HeaderWhat = "managed segment header";

    private enum OpenMode
    {
        Create,
        Open,
        OpenOrCreate,
    }

    private ManagedSegment(SharedMemorySegment segment, SharedMemoryAttachment attachment, MappedRegion region, in HeaderSnapshot header,
        in ManagedSegmentLayout.Control control, SemaphoreSet tokens, bool wasCreated)
    {
        Segment = segment;
        Attachment = attachment;
        _region = region;
        _header = header;
        LivenessTokens = tokens;
        WasCreated = wasCreated;
        ShmSite site = Site;
        _heap = new HeapAllocator(region, control.HeapStart, control.HeapEnd, site);
        _participants = new ParticipantTable(region, ManagedSegmentLayout.ParticipantTableStart, control.Participants, tokens, site);
        _directory = new ManagedDirectory(region, control.DirectoryOffset, control.Entries, _heap, _participants, site);
    }

    /// <summary>
    /// Creates a managed segment that must not exist yet (segment and token set both created exclusively), initializes
    /// it and registers this process.
    /// </summary>
    /// <param name="key">The key; <see cref="IpcKey.Private"/> is <see cref="CreatePrivate"/>.</param>
    /// <param name="size">The segment's size: at least <see cref="GetMinimumSize"/>; the rest is heap.</param>
    /// <param name="options">Capacities and mode; null for the defaults (64 participants, 64 entries, 0600).</param>
    /// <returns>The managed segment, <see cref="WasCreated"/> true.</returns>
    /// <exception cref="IpcObjectExistsException">A segment with this key exists, or a token set with this key is left over.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The size is below the minimum, or a capacity is out of range.</exception>
    public static ManagedSegment Create(IpcKey key, long size, ManagedSegmentOptions? options = null)
    {
        options = CheckCreate(size, options);
        SharedMemorySegment segment = SharedMemorySegment.CreateNew(key, size, options.Mode);
        try
        {
            return Attach(segment, OpenMode.Create, options, null, CancellationToken.None);
        }
        catch (Exception e) when (e is not IpcObjectExistsException { Kind: IpcObjectKind.SharedMemory })
        {
            // Nobody else can be using it: it was never published. Never leave it behind.
            TryRemove(segment);
            throw;
        }
    }

    /// <summary>Creates a private managed segment (IPC_PRIVATE segment and token set), found by others through <see cref="OpenById"/>.</summary>
    /// <param name="size">The segment's size: at least <see cref="GetMinimumSize"/>.</param>
    /// <param name="options">Capacities and mode; null for the defaults.</param>
    /// <returns>The managed segment.</returns>
    public static ManagedSegment CreatePrivate(long size, ManagedSegmentOptions? options = null) => Create(IpcKey.Private, size, options);

    /// <summary>
    /// Opens the managed segment with this key, waiting (up to <paramref name="timeout"/>) until its creator has
    /// published it, validates it and registers this process.
    /// </summary>
    /// <param name="key">The key (not <see cref="IpcKey.Private"/>).</param>
    /// <param name="timeout">How long to wait for the creator; default 5 s; <see cref="TimeSpan.Zero"/> does not wait.</param>
    /// <param name="cancellationToken">Cancels the wait (it wakes the waiting thread at once).</param>
    /// <returns>The managed segment.</returns>
    /// <exception cref="IpcObjectNotFoundException">No segment has this key.</exception>
    /// <exception cref="ShmLayoutException">It is not a (valid) managed segment.</exception>
    /// <exception cref="ShmStructurePoisonedException">Its creator died while initializing it.</exception>
    /// <exception cref="ShmStructureNotReadyException">It was not published within the timeout.</exception>
    /// <exception cref="ShmCapacityException">Its participant table is full of live processes.</exception>
    public static ManagedSegment Open(IpcKey key, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Attach(SharedMemorySegment.Open(key), OpenMode.Open, ManagedSegmentOptions.Default, timeout, cancellationToken);

    /// <summary>Opens a managed segment by id (private ones, or from <c>shmkit list</c>); otherwise like <see cref="Open"/>.</summary>
    /// <param name="id">The shmid.</param>
    /// <param name="timeout">How long to wait for the creator; default 5 s.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The managed segment.</returns>
    public static ManagedSegment OpenById(int id, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Attach(SharedMemorySegment.OpenById(id), OpenMode.Open, ManagedSegmentOptions.Default, timeout, cancellationToken);

    /// <summary>
    /// Opens the managed segment with this key, or creates and initializes it. Safe when many processes race: exactly
    /// one initializes it (<see cref="WasCreated"/>), the others wait for it. If the initializer died before it was
    /// ready (or the segment is poisoned), one of the openers takes the initialization over.
    /// </summary>
    /// <param name="key">The key (not <see cref="IpcKey.Private"/>).</param>
    /// <param name="size">The size to create with: at least <see cref="GetMinimumSize"/>; an existing segment must be at least this large.</param>
    /// <param name="options">Capacities and mode when created; ignored when it exists.</param>
    /// <param name="timeout">How long to wait for another initializer; default 5 s.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The managed segment.</returns>
    /// <exception cref="ShmLayoutException">The segment exists and is not a (valid) managed segment.</exception>
    /// <exception cref="IpcSizeException">The existing segment is smaller than <paramref name="size"/>.</exception>
    public static ManagedSegment OpenOrCreate(IpcKey key, long size, ManagedSegmentOptions? options = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        options = CheckCreate(size, options);
        return Attach(SharedMemorySegment.OpenOrCreate(key, size, options.Mode), OpenMode.OpenOrCreate, options, timeout, cancellationToken);
    }

    private static ManagedSegmentOptions CheckCreate(long size, ManagedSegmentOptions? options)
    {
        options ??= ManagedSegmentOptions.Default;
        options.Validate();
        long minimum = ManagedSegmentLayout.HeapStart(options.ParticipantCapacity, options.DirectoryCapacity);
        if (size < minimum)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, string.Create(CultureInfo.InvariantCulture,
                $"A managed segment with {options.ParticipantCapacity} participants and {options.DirectoryCapacity} directory entries needs at least {minimum} bytes (header, control block and tables); the rest is heap. Ask for more, or for smaller capacities."));
        }

        return options;
    }

    private static ManagedSegment Attach(SharedMemorySegment segment, OpenMode mode, ManagedSegmentOptions options, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var site = new ShmSite(segment.Key, segment.Id);
        SharedMemoryAttachment attachment = segment.Attach();
        ManagedSegment? result = null;
        try
        {
            var region = new MappedRegion(attachment);
            HeaderSnapshot header;
            ManagedSegmentLayout.Control control;
            SemaphoreSet tokens;
            bool created;
            using (RegionLease lease = region.Acquire())
            {
                HeaderAcquisition acquisition;
                if (mode == OpenMode.Create)
                {
                    if (lease.Length < StructureHeader.Size || !StructureHeader.TryClaim(lease, 0, ShmStructureKind.ManagedSegment, out HeaderClaim claim))
                    {
                        throw new IpcObjectExistsException(
                            $"Creating the {site.Describe()} failed: another process (ManagedSegment.OpenOrCreate) claimed its initialization first. Open it instead.",
                            IpcObjectKind.SharedMemory, "initialize", segment.Key, segment.Id, 0);
                    }

                    acquisition = new HeaderAcquisition(default, claim);
                }
                else
                {
                    TimeSpan wait = timeout ?? s_defaultTimeout;
                    acquisition = StructureHeader.Acquire(lease, 0, lease.Length, ShmStructureKind.ManagedSegment,
                        mode == OpenMode.Open ? HeaderClaimPolicy.OpenOnly : HeaderClaimPolicy.ClaimOrTakeOver,
                        MonotonicClock.DeadlineAfter(wait), wait, site, HeaderWhat, cancellationToken,
                        lease.Length >= ManagedSegmentLayout.ParticipantTableStart ? ManagedSegmentLayout.InitializerToken : null);
                }

                if (acquisition.Claim is { } ours)
                {
                    (header, control, tokens) = Initialize(lease, segment, ours, options, site);
                    created = true;
                }
                else
                {
                    header = acquisition.Header;
                    control = ManagedSegmentLayout.Validate(lease, header, site);
                    tokens = OpenTokens(segment, control, site);
                    created = false;
                }
            }

            result = new ManagedSegment(segment, attachment, region, header, control, tokens, created);
            using (RegionLease lease = region.Acquire())
            {
                result._participants.ValidateAll(lease);
                result._directory.ValidateAll(lease);
            }

            result._self = result._participants.Register();
            return result;
        }
        catch
        {
            attachment.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Fills a claimed header's segment: zeroes the control block and tables, writes the control block, creates the
    /// token set (removing a dead predecessor's), then publishes. On failure the header is poisoned and a token set
    /// created here is removed.
    /// </summary>
    private static (HeaderSnapshot, ManagedSegmentLayout.Control, SemaphoreSet) Initialize(in RegionLease lease, SharedMemorySegment segment, in HeaderClaim claim,
        ManagedSegmentOptions options, in ShmSite site)
    {
        int participants = options.ParticipantCapacity;
        int entries = options.DirectoryCapacity;
        long directory = ManagedSegmentLayout.DirectoryOffset(participants);
        long heapStart = ManagedSegmentLayout.HeapStart(participants, entries);
        long size = lease.Length;
        SemaphoreSet? tokens = null;
        try
        {
            if (size < heapStart)
            {
                throw new ArgumentOutOfRangeException(nameof(options), string.Create(CultureInfo.InvariantCulture,
                    $"The {site.Describe()} has {size} bytes, less than the {heapStart} its tables need with these options."));
            }

            // A dead predecessor's token set id, read before the control block is cleared.
            int staleTokens = Volatile.Read(ref lease.Ref<int>(ManagedSegmentLayout.TokenSemaphoreIdOffset));
            unsafe
            {
                NativeMemory.Clear(lease.Pointer(ManagedSegmentLayout.ControlBlockOffset, heapStart - ManagedSegmentLayout.ControlBlockOffset),
                    (nuint)(heapStart - ManagedSegmentLayout.ControlBlockOffset));
            }

            Volatile.Write(ref lease.Ref<int>(ManagedSegmentLayout.TokenSemaphoreIdOffset), -1);
            lease.Ref<long>(ManagedSegmentLayout.HeapEndOffset) = size;
            lease.Ref<int>(ManagedSegmentLayout.ParticipantTableOffsetOffset) = ManagedSegmentLayout.ParticipantTableStart;
            lease.Ref<int>(ManagedSegmentLayout.DirectoryOffsetOffset) = (int)directory;
            lease.Ref<long>(ManagedSegmentLayout.HeapStartOffset) = heapStart;
            lease.Ref<long>(ManagedSegmentLayout.HeapNextOffset) = heapStart;

            tokens = CreateTokens(segment, participants, options.Mode, claim, staleTokens, site);
            Volatile.Write(ref lease.Ref<int>(ManagedSegmentLayout.TokenSemaphoreIdOffset), tokens.Id);

            // The initializer's own token (the set's last semaphore), so that openers in other pid namespaces see this
            // process die before it publishes; given back once published (it registers as a participant then).
            tokens.Release(participants, 1, undo: true);
            Volatile.Write(ref lease.Ref<int>(ManagedSegmentLayout.InitializerTokenIndexOffset), participants);
            StructureHeader.RecordInitializerToken(lease, claim, site, HeaderWhat);
            options.AfterInitializationClaimed?.Invoke();

            long kindParameter = ManagedSegmentLayout.KindParameter(participants, entries);
            StructureHeader.Publish(lease, claim, size, 0, kindParameter, site, HeaderWhat);
            GiveBackInitializerToken(tokens, participants);
            ProcessIdentity self = ProcessIdentity.Current;
            var header = new HeaderSnapshot(StructureHeader.CurrentLayoutVersion, ShmStructureKind.ManagedSegment, size, self.ProcessId, 0,
                unchecked((long)self.StartTime), unchecked((long)self.PidNamespaceInode), kindParameter);
            return (header, new ManagedSegmentLayout.Control(participants, entries, directory, heapStart, size, tokens.Id), tokens);
        }
        catch
        {
            StructureHeader.Poison(lease, claim);
            if (tokens is not null)
            {
                TryRemove(tokens);
            }

            throw;
        }
    }

    /// <summary>
    /// Creates the token set exclusively. When taking over from a dead initializer, a set with the key that is
    /// provably its (the id it recorded, or its pid on the set's last operation) is removed first; any other set with
    /// the key is somebody else's and is reported, never removed.
    /// </summary>
    private static SemaphoreSet CreateTokens(SharedMemorySegment segment, int participants, UnixFileMode mode, in HeaderClaim claim, int staleId, in ShmSite site)
    {
        short[] zeros = new short[participants + 1]; // one token per participant slot, and the initializer's
        if (segment.Key.IsPrivate)
        {
            return SemaphoreSet.CreatePrivate(zeros, mode);
        }

        try
        {
            return SemaphoreSet.CreateNew(segment.Key, zeros, mode);
        }
        catch (IpcObjectExistsException) when (claim.TookOver && SemaphoreSet.FindId(segment.Key) is int existing && IsPredecessors(existing, staleId, claim.PreviousCreatorPid))
        {
            TryRemove(SemaphoreSet.OpenById(existing));
            return SemaphoreSet.CreateNew(segment.Key, zeros, mode);
        }
        catch (IpcObjectExistsException e)
        {
            throw new IpcObjectExistsException(
                $"Initializing the {site.Describe()} failed: a semaphore set with key {segment.Key} already exists, but it does not belong to this managed segment (a set left over from an interrupted removal, or another program's). Remove it (`shmkit sem rm {segment.Key}`) if it is stale, or use another key.",
                IpcObjectKind.SemaphoreSet, "semget", segment.Key, e.Id, e.NativeErrorCode);
        }
    }

    private static bool IsPredecessors(int id, int staleId, int previousPid)
    {
        if (id == staleId)
        {
            return true;
        }

        try
        {
            return previousPid > 0 && SemaphoreSet.OpenById(id).GetLastProcessId(0) == previousPid;
        }
        catch (IpcException)
        {
            return false;
        }
    }

    /// <summary>Opens the token set the control block names, and checks that it belongs to this segment.</summary>
    private static SemaphoreSet OpenTokens(SharedMemorySegment segment, in ManagedSegmentLayout.Control control, in ShmSite site)
    {
        SemaphoreSet set;
        try
        {
            set = SemaphoreSet.OpenById(control.TokenSemaphoreId);
        }
        catch (IpcObjectNotFoundException)
        {
            throw ShmErrors.Layout(site, ManagedSegmentLayout.TokenSemaphoreIdOffset, "tokenSemaphoreId", "the id of the segment's liveness-token semaphore set",
                string.Create(CultureInfo.InvariantCulture, $"{control.TokenSemaphoreId}, which no semaphore set has"),
                $"The token set was removed (an interrupted Remove?) or the field is damaged. Remove the segment ({site.RemoveHint()}) and create it again.");
        }

        if (set.Key != segment.Key)
        {
            throw ShmErrors.Layout(site, ManagedSegmentLayout.TokenSemaphoreIdOffset, "tokenSemaphoreId",
                $"a semaphore set with the segment's key {segment.Key}",
                string.Create(CultureInfo.InvariantCulture, $"set {set.Id} with key {set.Key}"));
        }

        if (set.Count < control.Participants)
        {
            throw ShmErrors.Layout(site, ManagedSegmentLayout.TokenSemaphoreIdOffset, "token set size",
                string.Create(CultureInfo.InvariantCulture, $"at least {control.Participants} semaphores (one per participant slot)"),
                string.Create(CultureInfo.InvariantCulture, $"set {set.Id} with {set.Count}"));
        }

        return set;
    }

    /// <summary>After publication: the initializer's token is no longer needed (a set removed meanwhile has nothing to give back).</summary>
    private static void GiveBackInitializerToken(SemaphoreSet tokens, int index)
    {
        try
        {
            _ = tokens.TryWait(index, 1, undo: true);
        }
        catch (IpcException)
        {
        }
    }

    private static void TryRemove(SharedMemorySegment segment)
    {
        try
        {
            segment.Remove();
        }
        catch (IpcException)
        {
        }
    }

    private static void TryRemove(SemaphoreSet set)
    {
        try
        {
            set.Remove();
        }
        catch (IpcException)
        {
        }
    }
}
