using System.Globalization;
using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>
/// What every primitive handle holds: its managed segment, the mapping, the structure's place (found or constructed
/// by name through the segment's directory, its StructureHeader validated) and the structure's address in this
/// process. The binding holds one reference on the mapping until it is disposed and no operation or holder registered
/// with <see cref="Enter"/> / <see cref="Exit"/> is in progress (or, never disposed, until it is finalized), so
/// disposing the handle, the segment or the attachment never unmaps memory an operation, a sleeping waiter or a lock
/// holder still uses — issue 7's lease rule, at the cost of one xadd per Enter and per Exit.
/// </summary>
internal sealed unsafe class ShmStructureBinding
{
    /// <summary>Every primitive of this layer: a 64-byte header and a 64-byte body (two cache lines).</summary>
    internal const long PrimitiveSize = StructureHeader.Size + CacheLine.Size;

    /// <summary>The body's offset inside the structure.</summary>
    internal const int BodyOffset = StructureHeader.Size;

    private static readonly TimeSpan s_defaultTimeout = TimeSpan.FromSeconds(5);

    private readonly byte* _base;

    // Process memory. Bit 0: disposed (set once by Dispose, Interlocked.Or). Bits 1..31: operations and holders in
    // progress (Enter adds 2, Exit subtracts 2, Interlocked). The binding holds one reference on the mapping from Bind
    // until the first moment it is disposed with nothing in progress (value 1): whoever brings it there (Dispose, or the
    // last Exit) gives the reference back, once (_released). One xadd per Enter and per Exit: cheaper than SafeHandle's
    // AddRef/Release on every lock, with the same guarantee (nothing in progress ever sees the mapping go).
    private int _state;
    private int _released;

    private ShmStructureBinding(ManagedSegment segment, string name, ShmStructureKind kind, StructureLocation location, in HeaderSnapshot header, byte* address)
    {
        Segment = segment;
        Region = segment.Region;
        Name = name;
        Kind = kind;
        Offset = location.Offset;
        WasCreated = location.WasCreated;
        Header = header;
        _base = address;
        _released = 1; // a constructor that throws here leaves the finalizer nothing to give back
        Region.AddReference(); // the binding's own reference (see _state)
        _released = 0;
    }

    /// <summary>A handle that was never disposed and is unreachable: nothing can be in progress, give the reference back.</summary>
    ~ShmStructureBinding()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            Region.Release();
        }
    }

    internal ManagedSegment Segment { get; }

    internal MappedRegion Region { get; }

    internal string Name { get; }

    internal ShmStructureKind Kind { get; }

    /// <summary>The structure's offset in the segment (its header).</summary>
    internal long Offset { get; }

    internal bool WasCreated { get; }

    /// <summary>The validated header (immutable after Ready).</summary>
    internal HeaderSnapshot Header { get; }

    internal bool IsDisposed => (Volatile.Read(ref _state) & 1) != 0;

    /// <summary>"the ShmMutex 'jobs' in the managed segment with key 0x1234 (id 5)", for messages.</summary>
    internal string Describe() => string.Create(CultureInfo.InvariantCulture, $"the {Kind} '{Name}' in the {Segment.Site.Describe()}");

    /// <summary>
    /// Finds the structure called <paramref name="name"/> or constructs it (header claimed, the body's first word set
    /// to <paramref name="initialWord"/>, published), then validates its header.
    /// </summary>
    internal static ShmStructureBinding OpenOrCreate(ManagedSegment segment, string name, ShmStructureKind kind, int flags, long kindParameter, int initialWord,
        TimeSpan? timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentNullException.ThrowIfNull(name);
        string what = kind.ToString();
        StructureLocation location = segment.FindOrCreate(name, kind, StructureHeader.CurrentLayoutVersion, PrimitiveSize,
            (in RegionLease lease, long offset, long length) =>
            {
                if (!StructureHeader.TryClaim(lease, offset, kind, out HeaderClaim claim))
                {
                    throw ShmErrors.Layout(segment.Site, offset + StructureHeader.StateOffset, "state", "0 (fresh heap bytes)", "a claimed header");
                }

                Volatile.Write(ref lease.Ref<int>(offset + BodyOffset), initialWord);
                StructureHeader.Publish(lease, claim, length, flags, kindParameter, segment.Site, what);
            },
            timeout, cancellationToken);
        return Bind(segment, name, kind, location, timeout, cancellationToken);
    }

    /// <summary>Finds the structure called <paramref name="name"/>; a missing one is <see cref="IpcObjectNotFoundException"/>.</summary>
    internal static ShmStructureBinding Open(ManagedSegment segment, string name, ShmStructureKind kind, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentNullException.ThrowIfNull(name);
        StructureLocation location = segment.Find(name, kind, StructureHeader.CurrentLayoutVersion, timeout, cancellationToken)
            ?? throw new IpcObjectNotFoundException(
                string.Create(CultureInfo.InvariantCulture, $"The {segment.Site.Describe()} holds no {kind} called '{name}'. Create it with OpenOrCreate, or check the name (ManagedSegment.GetEntries lists them)."),
                IpcObjectKind.SharedMemory, "find", segment.Key, segment.Id, 0);
        return Bind(segment, name, kind, location, timeout, cancellationToken);
    }

    /// <summary>
    /// Registers an operation or a holder: the mapping stays until the matching <see cref="Exit"/>. Throws once this
    /// handle or the segment's attachment is disposed (the segment unregistered this process: its owner id is stale).
    /// </summary>
    /// <exception cref="ObjectDisposedException">This handle, or the segment, has been disposed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Enter()
    {
        if ((Interlocked.Add(ref _state, 2) & 1) != 0 || Region.IsDisposed)
        {
            EnterFailed();
        }
    }

    /// <summary>Ends what <see cref="Enter"/> registered; the last one after Dispose gives the mapping reference back.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Exit()
    {
        if (Interlocked.Add(ref _state, -2) == 1)
        {
            ReleaseMapping();
        }
    }

    /// <summary>The 32-bit word at <paramref name="bodyOffset"/> of the body (valid while a reference is held).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int* Word(int bodyOffset) => (int*)(_base + BodyOffset + bodyOffset);

    /// <summary>
    /// Marks the handle disposed: later operations throw; operations and holders in progress keep the mapping until
    /// they end. True the first time.
    /// </summary>
    internal bool Dispose()
    {
        int before = Interlocked.Or(ref _state, 1);
        if ((before & 1) != 0)
        {
            return false;
        }

        if (before == 0)
        {
            ReleaseMapping();
        }

        return true;
    }

    private static ShmStructureBinding Bind(ManagedSegment segment, string name, ShmStructureKind kind, StructureLocation location, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        using RegionLease lease = segment.Region.Acquire();
        TimeSpan wait = timeout ?? s_defaultTimeout;
        HeaderAcquisition header = StructureHeader.Acquire(lease, location.Offset, location.Length, kind, HeaderClaimPolicy.OpenOnly,
            MonotonicClock.DeadlineAfter(wait), wait, segment.Site, kind.ToString(), cancellationToken);
        if (header.Header.TotalSize != PrimitiveSize)
        {
            throw ShmErrors.Layout(segment.Site, location.Offset + StructureHeader.TotalSizeOffset, "totalSize", PrimitiveSize, header.Header.TotalSize);
        }

        byte* address = lease.Pointer(location.Offset, PrimitiveSize);
        return new ShmStructureBinding(segment, name, kind, location, header.Header, address);
    }

    private void ReleaseMapping()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            Region.Release();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EnterFailed()
    {
        Exit();
        ThrowDisposed();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowDisposed() => throw new ObjectDisposedException(Kind.ToString(), $"{Describe()} has been disposed; open it again.");
}
