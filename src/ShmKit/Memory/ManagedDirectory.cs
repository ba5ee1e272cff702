using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace ShmKit;

/// <summary>
/// The directory of a <see cref="ManagedSegment"/>: D entries of 64 bytes, a lock-free hash table with linear probing
/// in which entries are never freed, so any number of processes can find or construct names concurrently.
/// Entry layout:
/// <code>
/// off size field
///  0   4   state: 0 Free, 1 Claimed (being constructed), 2 Ready, 3 Abandoned   } one 64-bit CLAIM WORD, CASed
///  4   4   claimerOwnerId (ParticipantRef.OwnerId of the constructor)          } as a unit; state is a FUTEX WORD
///  8   2   kind                 constructor, while Claimed; immutable once Ready
/// 10   2   layoutVersion        idem
/// 12   4   nameLength (1..32)   idem
/// 16   8   offset (128-aligned, inside the heap; validated on every read)   idem
/// 24   8   size                 idem
/// 32  32   name (UTF-8, zero-padded)   idem
/// </code>
/// <para><b>Protocol.</b> Claim: CAS (Free|Abandoned, x) → (Claimed, me). Take over a dead claimer: CAS (Claimed, dead)
/// → (Claimed, me); the claimer's id travels in the same word as the state, so no reader ever pairs one claimer's
/// state with another's id. Publish: write every field, then CAS (Claimed, me) → (Ready, me) (full fence: a reader that
/// sees Ready with Volatile.Read has every field) and FUTEX_WAKE(all). A constructor that fails CASes to
/// (Abandoned, me) and wakes. Readers read fields only after they see Ready. A reader mid-construction sees Claimed and
/// blocks in a futex wait on the state word (the low half of the claim word) with the claimer watched by the
/// <see cref="LivenessMonitor"/>: the claimer's publication wakes it, the claimer's death interrupts it (a takeover
/// changes only the high half, so it wakes nobody: whoever waited for the dead claimer was interrupted anyway).</para>
/// <para><b>Why one construction per name.</b> Probing starts at FNV-1a(name) mod D and visits at most D entries.
/// Ready entries never change again, and a creator never passes an entry that is not Ready: it claims a Free or
/// Abandoned one, waits while a live claimer constructs, or takes over a dead claimer's. So the first non-Ready entry
/// of a name's probe sequence is where it must be constructed, and two processes creating the same name meet there;
/// the CAS lets exactly one construct while the other waits and then finds it. A lookup (<see cref="Find"/>) skips
/// Abandoned entries and dead claimers' entries (nothing was ever published there) and stops at Free.</para>
/// <para><b>Leaks, by design.</b> The heap bytes of a constructor that died or failed are never reused. Owner ids carry
/// 12 generation bits: a dead claimer's id could alias a live participant after 4096 re-registrations in its slot, and
/// a waiter would then wait for its timeout instead of taking over.</para>
/// </summary>
internal sealed class ManagedDirectory
{
    internal const int EntrySize = 64;
    internal const int StateOffset = 0;
    internal const int ClaimerOffset = 4;
    internal const int KindOffset = 8;
    internal const int LayoutVersionOffset = 10;
    internal const int NameLengthOffset = 12;
    internal const int OffsetOffset = 16;
    internal const int SizeOffset = 24;
    internal const int NameOffset = 32;

    /// <summary>The longest name, in UTF-8 bytes.</summary>
    internal const int MaxNameBytes = 32;

    internal const int Free = 0;
    internal const int Claimed = 1;
    internal const int Ready = 2;
    internal const int Abandoned = 3;

    private readonly MappedRegion _region;
    private readonly long _offset;
    private readonly HeapAllocator _heap;
    private readonly ParticipantTable _participants;
    private readonly ShmSite _site;

    internal ManagedDirectory(MappedRegion region, long offset, int capacity, HeapAllocator heap, ParticipantTable participants, in ShmSite site)
    {
        _region = region;
        _offset = offset;
        Capacity = capacity;
        _heap = heap;
        _participants = participants;
        _site = site;
    }

    internal int Capacity { get; }

    internal long EntryOffset(int index) => _offset + ((long)index * EntrySize);

    /// <summary>
    /// Finds the structure called <paramref name="name"/>, or constructs it: allocates <paramref name="size"/> zeroed
    /// bytes, runs <paramref name="initialize"/> on them and publishes the entry. At most D entries are visited.
    /// </summary>
    /// <exception cref="ShmNameConflictException">The name exists with another kind, layout version or size.</exception>
    /// <exception cref="ShmCapacityException">The directory or the heap is full.</exception>
    /// <exception cref="ShmStructureNotReadyException">Another live process was still constructing an entry on the way at the deadline.</exception>
    internal StructureLocation FindOrCreate(string name, ShmStructureKind kind, ushort layoutVersion, long size, StructureInitializer? initialize,
        int ownerId, long deadline, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfZero(ownerId);
        return Probe(name, kind, layoutVersion, size, initialize, ownerId, deadline, timeout, cancellationToken)!.Value;
    }

    /// <summary>
    /// Finds the structure called <paramref name="name"/> without constructing anything: null when it does not exist.
    /// Waits (up to the deadline) while a live process constructs an entry on the way.
    /// </summary>
    /// <exception cref="ShmNameConflictException">The name exists with another kind or layout version.</exception>
    internal StructureLocation? Find(string name, ShmStructureKind kind, ushort layoutVersion, long deadline, TimeSpan? timeout, CancellationToken cancellationToken) =>
        Probe(name, kind, layoutVersion, 0, null, ownerId: 0, deadline, timeout, cancellationToken);

    /// <summary>
    /// The probe sequence of <paramref name="name"/>, for a lookup (<paramref name="ownerId"/> 0: skips Abandoned
    /// entries and dead claimers' entries, stops at Free) or a find-or-construct (claims the first Free or Abandoned
    /// entry, or a dead claimer's). Waits while a live claimer constructs an entry on the way.
    /// </summary>
    private StructureLocation? Probe(string name, ShmStructureKind kind, ushort layoutVersion, long size, StructureInitializer? initialize,
        int ownerId, long deadline, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        bool create = ownerId != 0; // owner ids are never 0
        Span<byte> nameBuffer = stackalloc byte[MaxNameBytes];
        ReadOnlySpan<byte> key = EncodeName(name, nameBuffer);
        if (create)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        }

        using RegionLease lease = _region.Acquire();
        var wait = new PeerWait(deadline, cancellationToken);
        long mine = Claimed | ((long)ownerId << 32);
        int start = (int)(Hash(key) % (uint)Capacity);
        for (int step = 0; step < Capacity; step++)
        {
            int index = (start + step) % Capacity;
            ref long word = ref lease.Ref<long>(EntryOffset(index) + StateOffset);
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long w = Volatile.Read(ref word);
                int state = (int)w;
                switch (state)
                {
                    case Free when !create:
                        return null; // a name is never past a Free entry
                    case Abandoned when !create:
                        break; // nothing was ever published there
                    case Free:
                    case Abandoned:
                        if (Interlocked.CompareExchange(ref word, mine, w) == w)
                        {
                            return Construct(lease, index, mine, key, kind, layoutVersion, size, initialize);
                        }

                        continue;
                    case Claimed:
                        if (WaitForClaimer(lease, index, (int)(w >>> 32), ref wait, timeout))
                        {
                            continue; // woken, changed, or its claimer died: look again
                        }

                        if (!create)
                        {
                            break; // a dead claimer never published there
                        }

                        if (Interlocked.CompareExchange(ref word, mine, w) == w)
                        {
                            return Construct(lease, index, mine, key, kind, layoutVersion, size, initialize); // take its claim over
                        }

                        continue;
                    case Ready:
                        Entry found = ReadReady(lease, index);
                        if (!key.SequenceEqual(found.NameBytes(lease, this)))
                        {
                            break;
                        }

                        if (found.Kind != kind || found.LayoutVersion != layoutVersion || (create && found.Size != size))
                        {
                            throw ShmErrors.NameConflict(_site, name, (found.Kind, found.LayoutVersion, found.Size), (kind, layoutVersion, size));
                        }

                        return new StructureLocation(found.Offset, found.Size, WasCreated: false);
                    default:
                        throw BadState(index, state);
                }

                break;
            }
        }

        return create
            ? throw ShmErrors.Capacity(_site, ShmCapacityResource.Directory, Capacity, Capacity, 1,
                string.Create(CultureInfo.InvariantCulture, $"no free entry on the probe path of '{name}'"))
            : null;
    }

    /// <summary>Every entry that is not Free.</summary>
    internal List<ManagedSegmentEntry> Snapshot()
    {
        var list = new List<ManagedSegmentEntry>();
        using RegionLease lease = _region.Acquire();
        for (int i = 0; i < Capacity; i++)
        {
            int state = Volatile.Read(ref lease.Ref<int>(EntryOffset(i) + StateOffset));
            switch (state)
            {
                case Free:
                    break;
                case Claimed:
                    list.Add(new ManagedSegmentEntry(i, null, ShmStructureKind.None, 0, 0, 0, ShmDirectoryEntryState.Constructing));
                    break;
                case Abandoned:
                    list.Add(new ManagedSegmentEntry(i, null, ShmStructureKind.None, 0, 0, 0, ShmDirectoryEntryState.Abandoned));
                    break;
                case Ready:
                    Entry e = ReadReady(lease, i);
                    list.Add(new ManagedSegmentEntry(i, Encoding.UTF8.GetString(e.NameBytes(lease, this)), e.Kind, e.LayoutVersion, e.Offset, e.Size, ShmDirectoryEntryState.Ready));
                    break;
                default:
                    throw BadState(i, state);
            }
        }

        return list;
    }

    /// <summary>Checks every entry's state, and every Ready entry's fields: garbage → <see cref="ShmLayoutException"/>. Bounded by D.</summary>
    internal void ValidateAll(in RegionLease lease)
    {
        for (int i = 0; i < Capacity; i++)
        {
            int state = Volatile.Read(ref lease.Ref<int>(EntryOffset(i) + StateOffset));
            if ((uint)state > Abandoned)
            {
                throw BadState(i, state);
            }

            if (state == Ready)
            {
                _ = ReadReady(lease, i);
            }
        }
    }

    /// <summary>FNV-1a 32 of the UTF-8 name: where its probe sequence starts.</summary>
    internal static uint Hash(ReadOnlySpan<byte> name)
    {
        uint hash = 2166136261;
        foreach (byte b in name)
        {
            hash = (hash ^ b) * 16777619;
        }

        return hash;
    }

    /// <summary>The UTF-8 bytes of a name; 1..32 bytes, else <see cref="ArgumentException"/>.</summary>
    internal static ReadOnlySpan<byte> EncodeName(string name, Span<byte> buffer)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (Encoding.UTF8.GetByteCount(name) > MaxNameBytes)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"A structure name is at most {MaxNameBytes} bytes of UTF-8; '{name}' has {Encoding.UTF8.GetByteCount(name)}."), nameof(name));
        }

        int length = Encoding.UTF8.GetBytes(name, buffer);
        return buffer[..length];
    }

    private unsafe StructureLocation Construct(in RegionLease lease, int index, long claimedWord, ReadOnlySpan<byte> name, ShmStructureKind kind,
        ushort layoutVersion, long size, StructureInitializer? initialize)
    {
        long entry = EntryOffset(index);
        ref long word = ref lease.Ref<long>(entry + StateOffset);
        try
        {
            long offset = _heap.Allocate(lease, size);
            NativeMemory.Clear(lease.Pointer(offset, size), (nuint)size);
            lease.Ref<ushort>(entry + KindOffset) = (ushort)kind;
            lease.Ref<ushort>(entry + LayoutVersionOffset) = layoutVersion;
            lease.Ref<int>(entry + NameLengthOffset) = name.Length;
            lease.Ref<long>(entry + OffsetOffset) = offset;
            lease.Ref<long>(entry + SizeOffset) = size;
            Span<byte> nameField = lease.Span(entry + NameOffset, MaxNameBytes);
            nameField.Clear();
            name.CopyTo(nameField);
            initialize?.Invoke(lease, offset, size);
            long ready = Ready | (claimedWord & unchecked((long)0xFFFF_FFFF_0000_0000));
            if (Interlocked.CompareExchange(ref word, ready, claimedWord) != claimedWord)
            {
                throw ShmErrors.Poisoned(_site, entry, string.Create(CultureInfo.InvariantCulture, $"directory entry {index}"), Environment.ProcessId,
                    "another process judged this one dead and took over the construction");
            }

            Futex.WakeAll(lease.Word(entry + StateOffset));
            return new StructureLocation(offset, size, WasCreated: true);
        }
        catch
        {
            long abandoned = Abandoned | (claimedWord & unchecked((long)0xFFFF_FFFF_0000_0000));
            if (Interlocked.CompareExchange(ref word, abandoned, claimedWord) == claimedWord)
            {
                Futex.WakeAll(lease.Word(entry + StateOffset));
            }

            throw;
        }
    }

    /// <summary>
    /// Sleeps while entry <paramref name="index"/> is Claimed by <paramref name="claimer"/> and the claimer lives: its
    /// death (pidfd, or its SEM_UNDO token from another pid namespace) interrupts the sleep. Returns false at once when
    /// the claimer is dead (its slot moved on, its token is 0, or /proc says so), true to look again.
    /// </summary>
    private unsafe bool WaitForClaimer(in RegionLease lease, int index, int claimer, ref PeerWait wait, TimeSpan? timeout)
    {
        if (!_participants.TryGetOwnerWatch(claimer, out ProcessIdentity identity, out LivenessToken token))
        {
            return false; // its slot is no longer Active at that generation
        }

        using LivenessWatch? watch = wait.Watch(identity, token); // arm first, then check, then sleep
        ShmParticipantLiveness liveness = _participants.CheckOwner(claimer);
        if (liveness == ShmParticipantLiveness.Dead)
        {
            return false;
        }

        if (!wait.Sleep(lease.Word(EntryOffset(index) + StateOffset), Claimed, watch, identity, token))
        {
            throw ShmErrors.NotReady(_site, EntryOffset(index), string.Create(CultureInfo.InvariantCulture, $"directory entry {index}"),
                string.Create(CultureInfo.InvariantCulture,
                    $"process {identity.ProcessId} (owner id 0x{claimer:x}) is still constructing a structure there and {(liveness == ShmParticipantLiveness.Alive ? "is alive" : "its liveness cannot be told from here")}"),
                identity.ProcessId, timeout);
        }

        return true;
    }

    /// <summary>Reads and validates a Ready entry (the caller saw Ready with an acquire read).</summary>
    private Entry ReadReady(in RegionLease lease, int index)
    {
        long entry = EntryOffset(index);
        var kind = (ShmStructureKind)lease.Ref<ushort>(entry + KindOffset);
        ushort version = lease.Ref<ushort>(entry + LayoutVersionOffset);
        int nameLength = lease.Ref<int>(entry + NameLengthOffset);
        long offset = lease.Ref<long>(entry + OffsetOffset);
        long size = lease.Ref<long>(entry + SizeOffset);
        string field = string.Create(CultureInfo.InvariantCulture, $"directory entry {index}");
        if (nameLength is < 1 or > MaxNameBytes)
        {
            throw ShmErrors.Layout(_site, entry + NameLengthOffset, field + " nameLength", "1..32", nameLength.ToString(CultureInfo.InvariantCulture));
        }

        if (kind == ShmStructureKind.None)
        {
            throw ShmErrors.Layout(_site, entry + KindOffset, field + " kind", "a structure kind (not 0)", "0");
        }

        if (offset < _heap.HeapStart || offset > _heap.HeapEnd || (offset & (ManagedSegmentLayout.HeapAlignment - 1)) != 0)
        {
            throw ShmErrors.Layout(_site, entry + OffsetOffset, field + " offset",
                string.Create(CultureInfo.InvariantCulture, $"a 128-aligned offset in the heap {_heap.HeapStart}..{_heap.HeapEnd}"), offset.ToString(CultureInfo.InvariantCulture));
        }

        if (size < 1 || size > _heap.HeapEnd - offset)
        {
            throw ShmErrors.Layout(_site, entry + SizeOffset, field + " size",
                string.Create(CultureInfo.InvariantCulture, $"1..{_heap.HeapEnd - offset} bytes (to the end of the heap)"), size.ToString(CultureInfo.InvariantCulture));
        }

        return new Entry(index, kind, version, nameLength, offset, size);
    }

    private ShmLayoutException BadState(int index, int state) =>
        ShmErrors.Layout(_site, EntryOffset(index) + StateOffset, string.Create(CultureInfo.InvariantCulture, $"directory entry {index} state"),
            "0 (free), 1 (claimed), 2 (ready) or 3 (abandoned)", state.ToString(CultureInfo.InvariantCulture));

    /// <summary>A validated Ready entry.</summary>
    private readonly record struct Entry(int Index, ShmStructureKind Kind, ushort LayoutVersion, int NameLength, long Offset, long Size)
    {
        internal ReadOnlySpan<byte> NameBytes(in RegionLease lease, ManagedDirectory directory) =>
            lease.Span(directory.EntryOffset(Index) + NameOffset, NameLength);
    }
}
