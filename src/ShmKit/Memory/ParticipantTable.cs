using System.Globalization;

namespace ShmKit;

/// <summary>
/// The participant table of a <see cref="ManagedSegment"/>: one 64-byte slot per registered process, plus one
/// SEM_UNDO liveness token per slot (semaphore number = slot index in the segment's token set). Layout of a slot:
/// <code>
/// off size field
///  0   4   state: 0 Free, 1 Claiming, 2 Active, 3 Reclaiming   } one 64-bit CLAIM WORD, CASed as a unit
///  4   4   generation (uint, +1 on every claim)               } (state in the low half, little-endian)
///  8   4   pid (as the participant sees itself)      claimer, while Claiming; immutable while Active
/// 12   4   tokenIndex (= the slot index)             idem; validated == slot index on every read
/// 16   8   startTime (clock ticks since boot)        idem
/// 24   8   pidNamespaceInode                         idem
/// 32   8   registeredAtUnixMs (for inspect)          idem
/// 40  24   reserved (0)
/// </code>
/// <para><b>Claim word protocol.</b> Writers: a registrant first adds +1 (SEM_UNDO) to the slot's token, then CASes
/// (Free, g) → (Claiming, g+1), or (Active, g) → (Claiming, g+1) when the Active owner is dead, or
/// (Claiming|Reclaiming, g) → (Claiming, g+1) when the token reads 0 (the claimer died mid-claim: a live claimer
/// always holds its +1 before its CAS). It fills the fields and CASes (Claiming, g+1) → (Active, g+1); the CAS is a
/// full fence, so a reader that sees Active (acquire) sees the fields. It keeps its +1 as its liveness token: the
/// kernel undoes it when the process dies, in any pid namespace. A registrant whose CAS fails takes its +1 back.
/// Unregister: CAS (Active, g) → (Reclaiming, g), clear the fields, write (Free, g), then take the token back —
/// in that order, so a slot is never recoverable while its owner still works on it. Readers: read the word, the
/// fields, the word again; equal and Active → a consistent record (fields never change while Active at one
/// generation). Any other interleaving is retried a bounded number of times and then treated as "in flux".</para>
/// <para><b>Dead</b> (DESIGN-8): the token reads 0; or, in this pid namespace, /proc/PID is missing, has another start
/// time (pid reused) or is a zombie. An owner id whose slot is not Active at that generation is dead too. Every scan
/// is bounded by the capacity.</para>
/// </summary>
internal sealed class ParticipantTable
{
    internal const int SlotSize = 64;
    internal const int StateOffset = 0;
    internal const int GenerationOffset = 4;
    internal const int PidOffset = 8;
    internal const int TokenIndexOffset = 12;
    internal const int StartTimeOffset = 16;
    internal const int NamespaceOffset = 24;
    internal const int RegisteredAtOffset = 32;

    internal const int Free = 0;
    internal const int Claiming = 1;
    internal const int Active = 2;
    internal const int Reclaiming = 3;

    private const int ReadAttempts = 8;

    private readonly MappedRegion _region;
    private readonly long _offset;
    private readonly SemaphoreSet _tokens;
    private readonly ShmSite _site;

    internal ParticipantTable(MappedRegion region, long offset, int capacity, SemaphoreSet tokens, in ShmSite site)
    {
        _region = region;
        _offset = offset;
        Capacity = capacity;
        _tokens = tokens;
        _site = site;
    }

    internal int Capacity { get; }

    internal long SlotOffset(int slot) => _offset + ((long)slot * SlotSize);

    /// <summary>
    /// Registers this process: the first Free slot, else the first whose owner (or claimer) is dead. One pass over
    /// the table; full → <see cref="ShmCapacityException"/> naming the live pids.
    /// </summary>
    internal ParticipantRef Register()
    {
        using RegionLease lease = _region.Acquire();
        ProcessIdentity self = ProcessIdentity.Current;
        List<int> livePids = [];
        for (int i = 0; i < Capacity; i++)
        {
            ref long word = ref lease.Ref<long>(SlotOffset(i));
            long w = Volatile.Read(ref word);
            int state = (int)w;
            uint generation = (uint)(w >>> 32);
            bool candidate;
            switch (state)
            {
                case Free:
                    candidate = true;
                    break;
                case Active:
                    SlotRecord record = Read(lease, i);
                    candidate = record.State == Active && record.Generation == generation && CheckRecord(record) == ShmParticipantLiveness.Dead;
                    if (!candidate && record.State == Active)
                    {
                        livePids.Add(record.Pid);
                    }

                    break;
                case Claiming:
                case Reclaiming:
                    candidate = TokenValue(i) == 0;
                    break;
                default:
                    throw BadState(i, state);
            }

            if (!candidate)
            {
                continue;
            }

            // Token first: from here until we give it back or die, nobody can judge this slot's claim dead.
            _tokens.Release(i, 1, undo: true);
            long claimed = Claiming | ((long)(generation + 1) << 32);
            if (Interlocked.CompareExchange(ref word, claimed, w) != w)
            {
                DropToken(i);
                continue;
            }

            long slot = SlotOffset(i);
            lease.Ref<int>(slot + PidOffset) = self.ProcessId;
            lease.Ref<int>(slot + TokenIndexOffset) = i;
            lease.Ref<long>(slot + StartTimeOffset) = unchecked((long)self.StartTime);
            lease.Ref<long>(slot + NamespaceOffset) = unchecked((long)self.PidNamespaceInode);
            lease.Ref<long>(slot + RegisteredAtOffset) = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            long active = Active | ((long)(generation + 1) << 32);
            if (Interlocked.CompareExchange(ref word, active, claimed) != claimed)
            {
                DropToken(i);
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"Participant slot {i} of the {_site.Describe()} was taken from this process while it registered; something else writes the table."));
            }

            return new ParticipantRef(i, generation + 1);
        }

        string pids = string.Join(", ", livePids.Take(8).Select(p => p.ToString(CultureInfo.InvariantCulture))) + (livePids.Count > 8 ? ", ..." : string.Empty);
        throw ShmErrors.Capacity(_site, ShmCapacityResource.ParticipantTable, Capacity, Capacity, 1, livePids.Count > 0 ? "live pids " + pids : null);
    }

    /// <summary>Unregisters (Dispose). Never throws for a set that was removed meanwhile.</summary>
    internal void Unregister(ParticipantRef me)
    {
        using (RegionLease lease = _region.Acquire())
        {
            ref long word = ref lease.Ref<long>(SlotOffset(me.Slot));
            long gen = (long)me.Generation << 32;
            if (Interlocked.CompareExchange(ref word, Reclaiming | gen, Active | gen) == (Active | gen))
            {
                lease.Span(SlotOffset(me.Slot) + PidOffset, RegisteredAtOffset + 8 - PidOffset).Clear();
                Volatile.Write(ref word, Free | gen);
            }
        }

        DropToken(me.Slot);
    }

    /// <summary>The liveness of the participant an owner id names: Dead when its slot is no longer Active at that generation.</summary>
    internal ShmParticipantLiveness CheckOwner(int ownerId)
    {
        if (!TryReadOwner(ownerId, out SlotRecord record))
        {
            return ShmParticipantLiveness.Dead;
        }

        return CheckRecord(record);
    }

    /// <summary>A snapshot of the participant an owner id names, if its slot is Active at that generation.</summary>
    internal bool TryGetOwner(int ownerId, out ManagedSegmentParticipant participant)
    {
        if (!TryReadOwner(ownerId, out SlotRecord record))
        {
            participant = default;
            return false;
        }

        participant = ToParticipant(record);
        return true;
    }

    /// <summary>
    /// What the liveness monitor needs to watch the participant an owner id names (its identity and its token), if
    /// its slot is Active at that generation; false means it is gone (Dead).
    /// </summary>
    internal bool TryGetOwnerWatch(int ownerId, out ProcessIdentity identity, out LivenessToken token)
    {
        if (!TryReadOwner(ownerId, out SlotRecord record))
        {
            identity = default;
            token = default;
            return false;
        }

        identity = record.Identity;
        token = Token(record.TokenIndex);
        return true;
    }

    /// <summary>Every Active slot, with its liveness judged now.</summary>
    internal List<ManagedSegmentParticipant> Snapshot()
    {
        var list = new List<ManagedSegmentParticipant>();
        using RegionLease lease = _region.Acquire();
        for (int i = 0; i < Capacity; i++)
        {
            SlotRecord record = Read(lease, i);
            if (record.State == Active)
            {
                list.Add(ToParticipant(record));
            }
        }

        return list;
    }

    /// <summary>Checks every slot's state (and an Active slot's token index): garbage → <see cref="ShmLayoutException"/>. Bounded by the capacity.</summary>
    internal void ValidateAll(in RegionLease lease)
    {
        for (int i = 0; i < Capacity; i++)
        {
            _ = Read(lease, i);
        }
    }

    /// <summary>
    /// Liveness of a consistent Active record (<see cref="ProcessLiveness.Check(in ProcessIdentity, LivenessToken?)"/>):
    /// the token (any namespace) says Dead at 0; /proc (this namespace) says Dead or Alive; otherwise a held token says
    /// Alive, and an unreadable one Unknown.
    /// </summary>
    internal ShmParticipantLiveness CheckRecord(in SlotRecord record) =>
        ProcessLiveness.Check(record.Identity, Token(record.TokenIndex)) switch
        {
            LivenessState.Alive => ShmParticipantLiveness.Alive,
            LivenessState.Dead => ShmParticipantLiveness.Dead,
            _ => ShmParticipantLiveness.Unknown,
        };

    /// <summary>The token's value (GETVAL), or -1 when it cannot be read (set removed, no permission).</summary>
    internal int TokenValue(int slot) => Token(slot).ReadValue();

    /// <summary>Slot <paramref name="slot"/>'s liveness token: its semaphore in the segment's token set.</summary>
    internal LivenessToken Token(int slot) => new(_tokens.Id, slot);

    /// <summary>
    /// Reads slot <paramref name="slot"/> consistently (word, fields, word). Garbage state or token index →
    /// <see cref="ShmLayoutException"/>. A slot that keeps changing is reported as Claiming (in flux).
    /// </summary>
    internal SlotRecord Read(in RegionLease lease, int slot)
    {
        long offset = SlotOffset(slot);
        ref long word = ref lease.Ref<long>(offset);
        for (int attempt = 0; attempt < ReadAttempts; attempt++)
        {
            long w1 = Volatile.Read(ref word);
            int state = (int)w1;
            if ((uint)state > Reclaiming)
            {
                throw BadState(slot, state);
            }

            if (state != Active)
            {
                return new SlotRecord(slot, state, (uint)(w1 >>> 32), 0, slot, 0, 0, 0);
            }

            var record = new SlotRecord(slot, state, (uint)(w1 >>> 32),
                Volatile.Read(ref lease.Ref<int>(offset + PidOffset)),
                Volatile.Read(ref lease.Ref<int>(offset + TokenIndexOffset)),
                Volatile.Read(ref lease.Ref<long>(offset + StartTimeOffset)),
                Volatile.Read(ref lease.Ref<long>(offset + NamespaceOffset)),
                Volatile.Read(ref lease.Ref<long>(offset + RegisteredAtOffset)));
            if (Volatile.Read(ref word) != w1)
            {
                continue;
            }

            if (record.TokenIndex != slot)
            {
                throw ShmErrors.Layout(_site, offset + TokenIndexOffset,
                    string.Create(CultureInfo.InvariantCulture, $"participant slot {slot} tokenIndex"), slot, record.TokenIndex);
            }

            return record;
        }

        return new SlotRecord(slot, Claiming, 0, 0, slot, 0, 0, 0);
    }

    /// <summary>The slot an owner id names, read consistently; false when it is not Active at that generation (the owner is gone). No system call.</summary>
    internal bool TryReadOwner(int ownerId, out SlotRecord record)
    {
        record = default;
        int slot = ParticipantRef.SlotOf(ownerId);
        if ((uint)slot >= (uint)Capacity)
        {
            return false;
        }

        using RegionLease lease = _region.Acquire();
        record = Read(lease, slot);
        return record.State == Active && (record.Generation & 0xFFF) == ParticipantRef.GenerationBitsOf(ownerId);
    }

    private ManagedSegmentParticipant ToParticipant(in SlotRecord record)
    {
        DateTimeOffset registered = record.RegisteredAtUnixMs is >= 0 and <= 253402300799999
            ? DateTimeOffset.FromUnixTimeMilliseconds(record.RegisteredAtUnixMs)
            : DateTimeOffset.MinValue;
        return new ManagedSegmentParticipant(record.Slot, record.Pid, record.StartTime, record.PidNamespaceInode, record.Generation,
            new ParticipantRef(record.Slot, record.Generation).OwnerId, CheckRecord(record), registered,
            record.Identity == ProcessIdentity.Current);
    }

    private void DropToken(int slot)
    {
        try
        {
            _ = _tokens.TryWait(slot, 1, undo: true);
        }
        catch (IpcException)
        {
            // The set was removed (the segment is being torn down): nothing to give back.
        }
    }

    private ShmLayoutException BadState(int slot, int state) =>
        ShmErrors.Layout(_site, SlotOffset(slot) + StateOffset, string.Create(CultureInfo.InvariantCulture, $"participant slot {slot} state"),
            "0 (free), 1 (claiming), 2 (active) or 3 (reclaiming)", state.ToString(CultureInfo.InvariantCulture));

    /// <summary>One slot, read consistently.</summary>
    internal readonly record struct SlotRecord(int Slot, int State, uint Generation, int Pid, int TokenIndex, long StartTime, long PidNamespaceInode, long RegisteredAtUnixMs)
    {
        /// <summary>The process the slot records (the slot stores the identity's unsigned fields as 8-byte integers).</summary>
        internal ProcessIdentity Identity => new(Pid, unchecked((ulong)StartTime), unchecked((ulong)PidNamespaceInode));
    }
}
