using System.Buffers.Binary;
using System.Globalization;

namespace ShmKit;

/// <summary>How an opener treats a header that is not Ready.</summary>
internal enum HeaderClaimPolicy
{
    /// <summary>Wait for Ready; a dead initializer poisons the structure (CAS Initializing → Poisoned) and throws.</summary>
    OpenOnly,

    /// <summary>Claim an all-zero header; take over one whose initializer died, or that is Poisoned.</summary>
    ClaimOrTakeOver,
}

/// <summary>The right to initialize a header: the state value this process CASed in (Initializing | IdentityBit | epoch &lt;&lt; 8).</summary>
/// <param name="Offset">The header's offset in the segment.</param>
/// <param name="StateValue">The state word when the claim was made (a later <see cref="StructureHeader.RecordInitializerToken"/> adds TokenBit).</param>
/// <param name="TookOver">True when the claim replaced a dead initializer's (or a Poisoned header).</param>
/// <param name="PreviousCreatorPid">The dead initializer's pid when <paramref name="TookOver"/>, else 0.</param>
internal readonly record struct HeaderClaim(long Offset, int StateValue, bool TookOver, int PreviousCreatorPid);

/// <summary>
/// Where a structure's initializer records its SEM_UNDO liveness token while it initializes (offsets in the region;
/// a <see cref="ManagedSegment"/> keeps them in its control block). The initializer writes both, then sets the
/// state's TokenBit with a CAS (release) and wakes the state word (<see cref="StructureHeader.RecordInitializerToken"/>).
/// Openers read them only after they saw TokenBit (acquire), and trust them only while the state still reads the same
/// afterwards. Without a token an initializer in another pid namespace cannot be seen to die.
/// </summary>
/// <param name="SetIdOffset">The 4-byte semid of the token's set.</param>
/// <param name="IndexOffset">The 4-byte semaphore number in the set.</param>
internal readonly record struct InitializerTokenField(long SetIdOffset, long IndexOffset);

/// <summary>A validated Ready header (a copy: headers never change after Ready).</summary>
internal readonly record struct HeaderSnapshot(
    ushort LayoutVersion, ShmStructureKind Kind, long TotalSize, int CreatorPid, int Flags,
    long CreatorStartTime, long CreatorPidNamespaceInode, long KindParameter);

/// <summary>What <see cref="StructureHeader.Acquire"/> found: a Ready header, or a claim to initialize it.</summary>
internal readonly record struct HeaderAcquisition(HeaderSnapshot Header, HeaderClaim? Claim);

/// <summary>
/// The 64-byte versioned header at the start of every ShmKit structure in shared memory (and at offset 0 of a
/// <see cref="ManagedSegment"/>). All-zero memory means "not initialized". Layout, little-endian:
/// <code>
/// off size field
///  0   4   magic 0x4B4D4853 ("SHMK")      creator, while Initializing; read by openers after Ready (acquire)
///  4   2   layoutVersion = 1              creator, idem
///  6   2   kind (ShmStructureKind)        creator, idem
///  8   4   state, the FUTEX WORD every opener sleeps on:
///              bits 0..1 phase (0 NotInitialized, 1 Initializing, 2 Ready, 3 Poisoned); while Initializing also
///              bit 2 IdentityBit (the creator fields below are this claimer's), bit 3 TokenBit (its liveness token is
///              recorded, see InitializerTokenField) and bits 8..31 the claim epoch (1..2^24-1). Any other value
///              (bits 4..7 set, TokenBit without IdentityBit, an epoch outside Initializing) is garbage.
///              Writers, each CAS followed by FUTEX_WAKE(all) of this word, so a sleeper never misses a change:
///              a claimer CASes 0 → 1|e&lt;&lt;8 (or, taking over, 1|…|e&lt;&lt;8 → 1|(e+1)&lt;&lt;8, or 3 → 1|e'&lt;&lt;8), writes
///              the identity, then CASes in IdentityBit; a managed segment's initializer later CASes in TokenBit; the
///              claimer publishes with CAS(its value → 2) (a full fence, so it releases every field); an opener that
///              finds the initializer dead CASes its value → 3.
///              Readers: Volatile.Read (acquire); they read no other field before they see 2, except the identity
///              (after IdentityBit) and the token (after TokenBit), re-reading the state afterwards (seqlock-style).
///  12  4   headerSize = 64                creator before Ready
///  16  8   totalSize (header + body)      creator before Ready; validated against the real region
///  24  4   creatorPid                     claimer, right after its CAS (after magic, version, kind, headerSize), before IdentityBit
///  28  4   flags (kind-specific)          creator before Ready
///  32  8   creatorStartTime (ticks)       claimer, like creatorPid
///  40  8   creatorPidNamespaceInode       claimer, like creatorPid
///  48  8   kindParameter (kind-specific)  creator before Ready
///  56  4   headerChecksum                 creator before Ready: FNV-1a 32 of bytes 0..55 with the state read as 0
///  60  4   lastEpoch                      claimer, with its identity: the epoch of the latest claim, so that a claim
///              of a Poisoned header (whose state keeps no epoch) moves the epoch on
/// </code>
/// The epoch bits make a takeover exclusive: several openers may find the same dead initializer, and only the one
/// whose CAS moves the epoch initializes; since every claim moves the epoch, a reader that re-reads the same state
/// never pairs one claimer's state with another's identity.
/// </summary>
internal static unsafe partial class StructureHeader
{
    internal const int Size = 64;
    internal const uint Magic = 0x4B4D4853;
    internal const ushort CurrentLayoutVersion = 1;

    internal const int MagicOffset = 0;
    internal const int LayoutVersionOffset = 4;
    internal const int KindOffset = 6;
    internal const int StateOffset = 8;
    internal const int HeaderSizeOffset = 12;
    internal const int TotalSizeOffset = 16;
    internal const int CreatorPidOffset = 24;
    internal const int FlagsOffset = 28;
    internal const int CreatorStartTimeOffset = 32;
    internal const int CreatorNamespaceOffset = 40;
    internal const int KindParameterOffset = 48;
    internal const int ChecksumOffset = 56;
    internal const int LastEpochOffset = 60;

    internal const int NotInitialized = 0;
    internal const int Initializing = 1;
    internal const int Ready = 2;
    internal const int Poisoned = 3;

    /// <summary>While Initializing: the creator fields hold this claimer's identity.</summary>
    internal const int IdentityBit = 0x04;

    /// <summary>While Initializing: the initializer's liveness token is recorded (<see cref="InitializerTokenField"/>).</summary>
    internal const int TokenBit = 0x08;

    private const int LowByte = 0xFF;
    private const int FlagBits = IdentityBit | TokenBit;
    private const int EpochShift = 8;
    private const int MaxEpoch = 0xFFFFFF;

    /// <summary>
    /// Claims an all-zero header (CAS 0 → Initializing). For structures whose space the caller already owns
    /// exclusively (a directory entry it claimed), so the CAS cannot fail except on garbage.
    /// </summary>
    internal static bool TryClaim(in RegionLease lease, long offset, ShmStructureKind kind, out HeaderClaim claim) =>
        TryClaimFrom(lease, offset, 0, 1, kind, previousPid: 0, out claim);

    /// <summary>
    /// Records that the initializer now holds a SEM_UNDO liveness token (its set id and index already written where the
    /// opener's <see cref="InitializerTokenField"/> points): CAS in TokenBit, wake every waiter.
    /// </summary>
    /// <exception cref="ShmStructurePoisonedException">The claim was lost: another process judged this one dead.</exception>
    internal static void RecordInitializerToken(in RegionLease lease, in HeaderClaim claim, in ShmSite site, string what)
    {
        if (!TryMoveOwnState(lease, claim, static s => s | TokenBit))
        {
            throw ClaimLost(site, claim.Offset, what);
        }
    }

    /// <summary>
    /// Publishes a claimed header: writes the remaining fields and the checksum, then CASes the state from the claim
    /// to Ready (full fence: everything the initializer wrote before, header and body, is visible to every opener
    /// that reads Ready) and wakes every waiter.
    /// </summary>
    /// <exception cref="ShmStructurePoisonedException">The claim was lost: another process judged this one dead and took over or poisoned it.</exception>
    internal static void Publish(in RegionLease lease, in HeaderClaim claim, long totalSize, int flags, long kindParameter, in ShmSite site, string what)
    {
        long offset = claim.Offset;
        lease.Ref<long>(offset + TotalSizeOffset) = totalSize;
        lease.Ref<int>(offset + FlagsOffset) = flags;
        lease.Ref<long>(offset + KindParameterOffset) = kindParameter;
        lease.Ref<uint>(offset + ChecksumOffset) = ComputeChecksum(new ReadOnlySpan<byte>(lease.Pointer(offset, Size), Size));
        if (!TryMoveOwnState(lease, claim, static _ => Ready))
        {
            throw ClaimLost(site, offset, what);
        }
    }

    /// <summary>Gives up a claim after a failed initialization: CAS claim → Poisoned, wake every waiter.</summary>
    internal static void Poison(in RegionLease lease, in HeaderClaim claim) => _ = TryMoveOwnState(lease, claim, static _ => Poisoned);

    /// <summary>The raw state word (acquire), for inspection without waiting.</summary>
    internal static int ReadState(in RegionLease lease, long offset) => Volatile.Read(ref lease.Ref<int>(offset + StateOffset));

    /// <summary>
    /// Validates a header whose state reads Ready, in a fixed number of steps: magic, layout version, header size,
    /// checksum, kind, total size against <paramref name="available"/>. Copies the 64 bytes first (after the acquire
    /// of the state), so every check sees one snapshot.
    /// </summary>
    internal static HeaderSnapshot Validate(in RegionLease lease, long offset, long available, ShmStructureKind kind, in ShmSite site)
    {
        Span<byte> h = stackalloc byte[Size];
        new ReadOnlySpan<byte>(lease.Pointer(offset, Size), Size).CopyTo(h);
        CheckMagic(BinaryPrimitives.ReadUInt32LittleEndian(h[MagicOffset..]), site, offset);
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(h[LayoutVersionOffset..]);
        if (version != CurrentLayoutVersion)
        {
            throw ShmErrors.Layout(site, offset + LayoutVersionOffset, "layoutVersion", CurrentLayoutVersion, version,
                string.Create(CultureInfo.InvariantCulture, $"It was written with layout version {version}; this library reads layout version {CurrentLayoutVersion}. Open it with a ShmKit that reads version {version}, or remove it and create it again."));
        }

        CheckHeaderSize(BinaryPrimitives.ReadInt32LittleEndian(h[HeaderSizeOffset..]), site, offset);
        uint checksum = BinaryPrimitives.ReadUInt32LittleEndian(h[ChecksumOffset..]);
        uint computed = ComputeChecksum(h);
        if (checksum != computed)
        {
            throw ShmErrors.Layout(site, offset + ChecksumOffset, "headerChecksum", string.Create(CultureInfo.InvariantCulture, $"0x{computed:X8} (FNV-1a of bytes 0..55)"),
                string.Create(CultureInfo.InvariantCulture, $"0x{checksum:X8}"), "The header is damaged. Remove the segment and create it again.");
        }

        var found = (ShmStructureKind)BinaryPrimitives.ReadUInt16LittleEndian(h[KindOffset..]);
        if (found != kind)
        {
            throw ShmErrors.Layout(site, offset + KindOffset, "kind", DescribeKind(kind), DescribeKind(found),
                string.Create(CultureInfo.InvariantCulture, $"The structure there is a {DescribeKind(found)}, not a {DescribeKind(kind)}: open it as what it is."));
        }

        long totalSize = BinaryPrimitives.ReadInt64LittleEndian(h[TotalSizeOffset..]);
        if (totalSize < Size || totalSize > available)
        {
            throw ShmErrors.Layout(site, offset + TotalSizeOffset, "totalSize",
                string.Create(CultureInfo.InvariantCulture, $"{Size}..{available} bytes (what the segment holds from offset {offset})"),
                string.Create(CultureInfo.InvariantCulture, $"{totalSize} bytes"));
        }

        return new HeaderSnapshot(version, found, totalSize,
            BinaryPrimitives.ReadInt32LittleEndian(h[CreatorPidOffset..]),
            BinaryPrimitives.ReadInt32LittleEndian(h[FlagsOffset..]),
            BinaryPrimitives.ReadInt64LittleEndian(h[CreatorStartTimeOffset..]),
            BinaryPrimitives.ReadInt64LittleEndian(h[CreatorNamespaceOffset..]),
            BinaryPrimitives.ReadInt64LittleEndian(h[KindParameterOffset..]));
    }

    /// <summary>FNV-1a 32 over bytes 0..55 of a header, with the state (bytes 8..11) read as zero.</summary>
    internal static uint ComputeChecksum(ReadOnlySpan<byte> header)
    {
        uint hash = 2166136261;
        for (int i = 0; i < ChecksumOffset; i++)
        {
            byte b = i is >= StateOffset and < StateOffset + 4 ? (byte)0 : header[i];
            hash = (hash ^ b) * 16777619;
        }

        return hash;
    }

    private static void CheckMagic(uint magic, in ShmSite site, long offset)
    {
        if (magic != Magic)
        {
            throw ShmErrors.Layout(site, offset + MagicOffset, "magic", "0x4B4D4853 (\"SHMK\")", string.Create(CultureInfo.InvariantCulture, $"0x{magic:X8}"),
                "This is not a ShmKit structure. Use another key, or remove the segment and create it again.");
        }
    }

    private static void CheckHeaderSize(int headerSize, in ShmSite site, long offset)
    {
        if (headerSize != Size)
        {
            throw ShmErrors.Layout(site, offset + HeaderSizeOffset, "headerSize", Size, headerSize);
        }
    }

    internal static string DescribeKind(ShmStructureKind kind) =>
        Enum.IsDefined(kind) ? kind.ToString() : string.Create(CultureInfo.InvariantCulture, $"unknown kind {(ushort)kind}");

    private static int NextEpoch(int epoch) => epoch >= MaxEpoch ? 1 : epoch + 1;

    /// <summary>
    /// CAS the state from <paramref name="expected"/> to Initializing|epoch; on success write the fixed fields and this
    /// process's identity, then CAS in IdentityBit (release) and wake every waiter.
    /// </summary>
    private static bool TryClaimFrom(in RegionLease lease, long offset, int expected, int epoch, ShmStructureKind kind, int previousPid, out HeaderClaim claim)
    {
        claim = default;
        ref int state = ref lease.Ref<int>(offset + StateOffset);
        int value = Initializing | (epoch << EpochShift);
        if (Interlocked.CompareExchange(ref state, value, expected) != expected)
        {
            return false;
        }

        ProcessIdentity self = ProcessIdentity.Current;
        lease.Ref<uint>(offset + MagicOffset) = Magic;
        lease.Ref<ushort>(offset + LayoutVersionOffset) = CurrentLayoutVersion;
        lease.Ref<ushort>(offset + KindOffset) = (ushort)kind;
        lease.Ref<int>(offset + HeaderSizeOffset) = Size;
        Volatile.Write(ref lease.Ref<int>(offset + CreatorPidOffset), self.ProcessId);
        Volatile.Write(ref lease.Ref<long>(offset + CreatorStartTimeOffset), unchecked((long)self.StartTime));
        Volatile.Write(ref lease.Ref<long>(offset + CreatorNamespaceOffset), unchecked((long)self.PidNamespaceInode));
        Volatile.Write(ref lease.Ref<int>(offset + LastEpochOffset), epoch);

        // Nobody else may change a state without IdentityBit (nobody can judge this claimer): a failure is garbage.
        if (Interlocked.CompareExchange(ref state, value | IdentityBit, value) != value)
        {
            return false;
        }

        Futex.WakeAll(lease.Word(offset + StateOffset));
        claim = new HeaderClaim(offset, value | IdentityBit, expected != 0, previousPid);
        return true;
    }

    /// <summary>
    /// Moves the state from this claim's value (with whatever flag bits it has gained) to <paramref name="next"/>(it)
    /// with a CAS and wakes every waiter; false when the claim was taken over or poisoned meanwhile.
    /// </summary>
    private static bool TryMoveOwnState(in RegionLease lease, in HeaderClaim claim, Func<int, int> next)
    {
        ref int state = ref lease.Ref<int>(claim.Offset + StateOffset);
        for (int attempt = 0; attempt < 4; attempt++) // only our own flag bits can change a state we own: bounded
        {
            int s = Volatile.Read(ref state);
            if ((s & ~FlagBits) != (claim.StateValue & ~FlagBits))
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref state, next(s), s) == s)
            {
                Futex.WakeAll(lease.Word(claim.Offset + StateOffset));
                return true;
            }
        }

        return false;
    }

    private static ShmStructurePoisonedException ClaimLost(in ShmSite site, long offset, string what) =>
        ShmErrors.Poisoned(site, offset, what, Environment.ProcessId,
            "this process's initialization was taken over or poisoned by another process that judged it dead");
}
