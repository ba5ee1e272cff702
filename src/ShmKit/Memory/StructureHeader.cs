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

/// <summary>The right to initialize a header: the state value this process CASed in (Initializing | epoch &lt;&lt; 8).</summary>
/// <param name="Offset">The header's offset in the segment.</param>
/// <param name="StateValue">The state word while this claim holds.</param>
/// <param name="TookOver">True when the claim replaced a dead initializer's (or a Poisoned header).</param>
/// <param name="PreviousCreatorPid">The dead initializer's pid when <paramref name="TookOver"/>, else 0.</param>
internal readonly record struct HeaderClaim(long Offset, int StateValue, bool TookOver, int PreviousCreatorPid);

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
///  8   4   state: bits 0..7 phase (0 NotInitialized, 1 Initializing, 2 Ready, 3 Poisoned),
///              bits 8..31 claim epoch (only while Initializing, 1..2^24-1). FUTEX WORD.
///              Writers: a claimer CASes 0 → 1|epoch&lt;&lt;8; a taker-over CASes 1|e&lt;&lt;8 → 1|(e+1)&lt;&lt;8 (or 3 → 1|e'&lt;&lt;8);
///              the claimer publishes with CAS(1|e&lt;&lt;8 → 2) (a full fence, so it releases every field) + FUTEX_WAKE(all);
///              an opener that finds the initializer dead CASes 1|e&lt;&lt;8 → 3 + FUTEX_WAKE(all).
///              Readers: Volatile.Read (acquire); they read no other field before they see 2, except the identity below.
///  12  4   headerSize = 64                creator before Ready
///  16  8   totalSize (header + body)      creator before Ready; validated against the real region
///  24  4   creatorPid                     claimer, right after its CAS (Volatile.Write), before identityEpoch
///  28  4   flags (kind-specific)          creator before Ready
///  32  8   creatorStartTime (ticks)       claimer, like creatorPid
///  40  8   creatorPidNamespaceInode       claimer, like creatorPid
///  48  8   kindParameter (kind-specific)  creator before Ready
///  56  4   headerChecksum                 creator before Ready: FNV-1a 32 of bytes 0..55 with the state read as 0
///  60  4   identityEpoch                  claimer: Volatile.Write(epoch) AFTER the three identity fields (release).
///              Readers of a state 1|e&lt;&lt;8 trust the identity only when identityEpoch == e (acquire) and the state still
///              reads 1|e&lt;&lt;8 after they read it (seqlock-style re-check); otherwise the claimer is mid-claim.
/// </code>
/// The epoch bits and identityEpoch (DESIGN-8 left bytes 60..63 reserved and the state 0..3) make a takeover
/// exclusive: several openers may find the same dead initializer, and only the one whose CAS moves the epoch
/// initializes; a reader never pairs one claimer's state with another's identity.
/// </summary>
internal static unsafe class StructureHeader
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
    internal const int IdentityEpochOffset = 60;

    internal const int NotInitialized = 0;
    internal const int Initializing = 1;
    internal const int Ready = 2;
    internal const int Poisoned = 3;

    private const int PhaseMask = 0xFF;
    private const int EpochShift = 8;
    private const int MaxEpoch = 0xFFFFFF;

    /// <summary>
    /// Waits until the header at <paramref name="offset"/> is Ready and validates it, or (with
    /// <see cref="HeaderClaimPolicy.ClaimOrTakeOver"/>) claims it for initialization when nobody has, or when its
    /// initializer died. Every loop iteration either returns, throws, or sleeps on the state word (in slices of at
    /// most 100 ms, re-checking the initializer's liveness); the deadline bounds the whole wait.
    /// </summary>
    /// <param name="lease">A lease on the region, held for the whole wait.</param>
    /// <param name="offset">The header's offset (64-byte aligned).</param>
    /// <param name="available">Bytes from <paramref name="offset"/> to the end of the space the structure may use.</param>
    /// <param name="kind">The kind the caller expects.</param>
    /// <param name="policy">Whether to claim or take over.</param>
    /// <param name="deadline">Absolute <see cref="System.Diagnostics.Stopwatch"/> deadline, or <see cref="TemporaryFutex.Infinite"/>.</param>
    /// <param name="timeout">The timeout the deadline came from, for messages.</param>
    /// <param name="site">The segment, for messages.</param>
    /// <param name="what">What the structure is, for messages ("managed segment header").</param>
    /// <param name="cancellationToken">Checked between slices.</param>
    internal static HeaderAcquisition Acquire(in RegionLease lease, long offset, long available, ShmStructureKind kind, HeaderClaimPolicy policy,
        long deadline, TimeSpan? timeout, in ShmSite site, string what, CancellationToken cancellationToken)
    {
        if (available < Size)
        {
            throw ShmErrors.Layout(site, offset, "size", string.Create(CultureInfo.InvariantCulture, $"at least {Size} bytes for a structure header"),
                string.Create(CultureInfo.InvariantCulture, $"{available} bytes"));
        }

        ref int state = ref lease.Ref<int>(offset + StateOffset);
        int* word = lease.Word(offset + StateOffset);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int s = Volatile.Read(ref state);
            int phase = s & PhaseMask;
            switch (phase)
            {
                case NotInitialized when s == 0:
                    if (policy == HeaderClaimPolicy.ClaimOrTakeOver)
                    {
                        if (TryClaimFrom(lease, offset, 0, 1, kind, previousPid: 0, out HeaderClaim claim))
                        {
                            return new HeaderAcquisition(default, claim);
                        }

                        continue;
                    }

                    WaitOrThrow(word, s, deadline, site, offset, what, "nobody has started initializing it (the memory is all zero)", 0, timeout);
                    continue;

                case Initializing when (s >>> EpochShift) != 0:
                {
                    int epoch = s >>> EpochShift;
                    if (!TryReadIdentity(lease, offset, s, epoch, out TemporaryProcessIdentity creator))
                    {
                        WaitOrThrow(word, s, deadline, site, offset, what, "a process is claiming its initialization and has not published its identity yet", 0, timeout);
                        continue;
                    }

                    ShmParticipantLiveness liveness = TemporaryProcessIdentity.Check(creator.ProcessId, creator.StartTime, creator.PidNamespaceInode);
                    if (liveness == ShmParticipantLiveness.Dead)
                    {
                        if (policy == HeaderClaimPolicy.ClaimOrTakeOver)
                        {
                            if (TryClaimFrom(lease, offset, s, NextEpoch(epoch), kind, creator.ProcessId, out HeaderClaim claim))
                            {
                                return new HeaderAcquisition(default, claim);
                            }

                            continue;
                        }

                        if (Interlocked.CompareExchange(ref state, Poisoned, s) == s)
                        {
                            TemporaryFutex.WakeAll(word);
                            throw ShmErrors.Poisoned(site, offset, what, creator.ProcessId);
                        }

                        continue;
                    }

                    string who = liveness == ShmParticipantLiveness.Alive
                        ? string.Create(CultureInfo.InvariantCulture, $"process {creator.ProcessId} is still initializing it and is alive")
                        : string.Create(CultureInfo.InvariantCulture, $"process {creator.ProcessId} of another pid namespace is initializing it (its death cannot be seen from here)");
                    WaitOrThrow(word, s, deadline, site, offset, what, who, creator.ProcessId, timeout);
                    continue;
                }

                case Ready when s == Ready:
                    return new HeaderAcquisition(Validate(lease, offset, available, kind, site), null);

                case Poisoned when s == Poisoned:
                {
                    int creatorPid = Volatile.Read(ref lease.Ref<int>(offset + CreatorPidOffset));
                    if (policy == HeaderClaimPolicy.ClaimOrTakeOver)
                    {
                        int next = NextEpoch(Volatile.Read(ref lease.Ref<int>(offset + IdentityEpochOffset)) & MaxEpoch);
                        if (TryClaimFrom(lease, offset, Poisoned, next, kind, creatorPid, out HeaderClaim claim))
                        {
                            return new HeaderAcquisition(default, claim);
                        }

                        continue;
                    }

                    throw ShmErrors.Poisoned(site, offset, what, creatorPid);
                }

                default:
                    throw ShmErrors.Layout(site, offset + StateOffset, "state", "0 (not initialized), 1|epoch<<8 (initializing), 2 (ready) or 3 (poisoned)",
                        string.Create(CultureInfo.InvariantCulture, $"0x{s:x8}"));
            }
        }
    }

    /// <summary>
    /// Claims an all-zero header (CAS 0 → Initializing). For structures whose space the caller already owns
    /// exclusively (a directory entry it claimed), so the CAS cannot fail except on garbage.
    /// </summary>
    internal static bool TryClaim(in RegionLease lease, long offset, ShmStructureKind kind, out HeaderClaim claim) =>
        TryClaimFrom(lease, offset, 0, 1, kind, previousPid: 0, out claim);

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
        ref int state = ref lease.Ref<int>(offset + StateOffset);
        if (Interlocked.CompareExchange(ref state, Ready, claim.StateValue) != claim.StateValue)
        {
            throw ShmErrors.Poisoned(site, offset, what, Environment.ProcessId,
                "this process's initialization was taken over or poisoned by another process that judged it dead");
        }

        TemporaryFutex.WakeAll(lease.Word(offset + StateOffset));
    }

    /// <summary>Gives up a claim after a failed initialization: CAS claim → Poisoned, wake every waiter.</summary>
    internal static void Poison(in RegionLease lease, in HeaderClaim claim)
    {
        ref int state = ref lease.Ref<int>(claim.Offset + StateOffset);
        if (Interlocked.CompareExchange(ref state, Poisoned, claim.StateValue) == claim.StateValue)
        {
            TemporaryFutex.WakeAll(lease.Word(claim.Offset + StateOffset));
        }
    }

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
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(h[MagicOffset..]);
        if (magic != Magic)
        {
            throw ShmErrors.Layout(site, offset + MagicOffset, "magic", "0x4B4D4853 (\"SHMK\")", string.Create(CultureInfo.InvariantCulture, $"0x{magic:X8}"),
                "This is not a ShmKit structure. Use another key, or remove the segment and create it again.");
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(h[LayoutVersionOffset..]);
        if (version != CurrentLayoutVersion)
        {
            throw ShmErrors.Layout(site, offset + LayoutVersionOffset, "layoutVersion", CurrentLayoutVersion, version,
                string.Create(CultureInfo.InvariantCulture, $"It was written with layout version {version}; this library reads layout version {CurrentLayoutVersion}. Open it with a ShmKit that reads version {version}, or remove it and create it again."));
        }

        int headerSize = BinaryPrimitives.ReadInt32LittleEndian(h[HeaderSizeOffset..]);
        if (headerSize != Size)
        {
            throw ShmErrors.Layout(site, offset + HeaderSizeOffset, "headerSize", Size, headerSize);
        }

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

    internal static string DescribeKind(ShmStructureKind kind) =>
        Enum.IsDefined(kind) ? kind.ToString() : string.Create(CultureInfo.InvariantCulture, $"unknown kind {(ushort)kind}");

    private static int NextEpoch(int epoch) => epoch >= MaxEpoch ? 1 : epoch + 1;

    /// <summary>
    /// CAS the state from <paramref name="expected"/> to Initializing|epoch; on success write the fixed fields and this
    /// process's identity, then publish the identity with Volatile.Write(identityEpoch, epoch).
    /// </summary>
    private static bool TryClaimFrom(in RegionLease lease, long offset, int expected, int epoch, ShmStructureKind kind, int previousPid, out HeaderClaim claim)
    {
        int value = Initializing | (epoch << EpochShift);
        if (Interlocked.CompareExchange(ref lease.Ref<int>(offset + StateOffset), value, expected) != expected)
        {
            claim = default;
            return false;
        }

        TemporaryProcessIdentity self = TemporaryProcessIdentity.Current;
        lease.Ref<uint>(offset + MagicOffset) = Magic;
        lease.Ref<ushort>(offset + LayoutVersionOffset) = CurrentLayoutVersion;
        lease.Ref<ushort>(offset + KindOffset) = (ushort)kind;
        lease.Ref<int>(offset + HeaderSizeOffset) = Size;
        Volatile.Write(ref lease.Ref<int>(offset + CreatorPidOffset), self.ProcessId);
        Volatile.Write(ref lease.Ref<long>(offset + CreatorStartTimeOffset), self.StartTime);
        Volatile.Write(ref lease.Ref<long>(offset + CreatorNamespaceOffset), self.PidNamespaceInode);
        Volatile.Write(ref lease.Ref<int>(offset + IdentityEpochOffset), epoch);
        claim = new HeaderClaim(offset, value, expected != 0, previousPid);
        return true;
    }

    /// <summary>Reads the initializer's identity for state <paramref name="s"/>; false while it is not published for this epoch.</summary>
    private static bool TryReadIdentity(in RegionLease lease, long offset, int s, int epoch, out TemporaryProcessIdentity identity)
    {
        identity = default;
        if (Volatile.Read(ref lease.Ref<int>(offset + IdentityEpochOffset)) != epoch)
        {
            return false;
        }

        int pid = Volatile.Read(ref lease.Ref<int>(offset + CreatorPidOffset));
        long start = Volatile.Read(ref lease.Ref<long>(offset + CreatorStartTimeOffset));
        long ns = Volatile.Read(ref lease.Ref<long>(offset + CreatorNamespaceOffset));
        if (Volatile.Read(ref lease.Ref<int>(offset + StateOffset)) != s)
        {
            return false;
        }

        identity = new TemporaryProcessIdentity(pid, start, ns);
        return true;
    }

    private static void WaitOrThrow(int* word, int value, long deadline, in ShmSite site, long offset, string what, string state, int pid, TimeSpan? timeout)
    {
        if (TemporaryFutex.Passed(deadline) || !TemporaryFutex.WaitSlice(word, value, deadline))
        {
            throw ShmErrors.NotReady(site, offset, what, state, pid, timeout);
        }
    }
}
