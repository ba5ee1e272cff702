using System.Globalization;
using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>
/// What every primitive handle holds: its managed segment, the mapping, the structure's place (found or constructed
/// by name through the segment's directory, its StructureHeader validated) and the structure's address in this
/// process. The address is only dereferenced while a reference on the mapping is held (<see cref="Enter"/> /
/// <see cref="Exit"/>, or a lease), so disposing the handle, the segment or the attachment never unmaps memory an
/// operation, a sleeping waiter or a lock holder still uses.
/// </summary>
internal sealed unsafe class ShmStructureBinding
{
    /// <summary>Every primitive of this layer: a 64-byte header and a 64-byte body (two cache lines).</summary>
    internal const long PrimitiveSize = StructureHeader.Size + CacheLine.Size;

    /// <summary>The body's offset inside the structure.</summary>
    internal const int BodyOffset = StructureHeader.Size;

    private static readonly TimeSpan s_defaultTimeout = TimeSpan.FromSeconds(5);

    private readonly byte* _base;

    // Process memory: 0 → 1 once, by Dispose (any thread); read by Enter before it takes its reference.
    private volatile int _disposed;

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

    internal bool IsDisposed => _disposed != 0;

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

    /// <summary>Takes a reference on the mapping (an operation's, a holder's, an async wait's). Throws once disposed.</summary>
    /// <exception cref="ObjectDisposedException">This handle, or the segment's attachment, has been disposed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Enter()
    {
        if (_disposed != 0)
        {
            ThrowDisposed();
        }

        Region.AddReference();
    }

    /// <summary>Gives back a reference taken by <see cref="Enter"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Exit() => Region.Release();

    /// <summary>The 32-bit word at <paramref name="bodyOffset"/> of the body (valid while a reference is held).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int* Word(int bodyOffset) => (int*)(_base + BodyOffset + bodyOffset);

    /// <summary>Marks the handle disposed: later operations throw; operations and holders in progress keep their references.</summary>
    internal bool Dispose() => Interlocked.Exchange(ref _disposed, 1) == 0;

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

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowDisposed() => throw new ObjectDisposedException(Kind.ToString(), $"{Describe()} has been disposed; open it again.");
}
