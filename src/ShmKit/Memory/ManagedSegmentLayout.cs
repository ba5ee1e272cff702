using System.Globalization;

namespace ShmKit;

/// <summary>
/// Where everything is in a <see cref="ManagedSegment"/>, and the checks that the control block is what it should
/// be. Layout (little-endian):
/// <code>
/// [0, 64)      StructureHeader, kind ManagedSegment, kindParameter = participantCapacity | directoryCapacity &lt;&lt; 32
/// [64, 128)    control block:
///              64  8  heapNext          bump pointer: next free heap offset. CAS loop by allocators (full fence);
///                                       read with Volatile.Read. Only grows, 128-aligned, in [heapStart, heapEnd].
///              72  8  heapEnd           initializer, before Ready; immutable after (== header totalSize)
///              80  4  tokenSemaphoreId  initializer: -1 first, then the semid of the liveness-token set once created
///                                       (Volatile.Write), before Ready; immutable after
///              84  4  participantTableOffset (= 128)                initializer, before Ready
///              88  4  directoryOffset (= 128 + 64·P)                initializer, before Ready
///              92  4  reserved (0)
///              96  8  heapStart (= directoryOffset + 64·D, rounded up to 128)   initializer, before Ready
///              104 4  initializerTokenIndex  initializer, while Initializing: the semaphore number (= P, the set's
///                                       last) of its own SEM_UNDO token in the set tokenSemaphoreId names; written
///                                       before it sets the header state's TokenBit (CAS, release), read by openers
///                                       only after they see TokenBit (acquire) and re-read the state
///              108 20 reserved (0)
/// [128, 128+64·P)            participant table (ParticipantTable)
/// [128+64·P, +64·D)          directory (ManagedDirectory)
/// [heapStart, heapEnd)       heap: structures, each at a 128-byte aligned offset
/// </code>
/// The token set has P + 1 semaphores: one per participant slot, and the initializer's (index P), which the
/// initializing process holds at +1 (SEM_UNDO) from the set's creation until it has published the header.
/// Every field is redundant with P, D and the segment size, and an opener checks that they agree: a cheap way to tell
/// a managed segment from garbage. Readers read the control block only after the header's Ready (acquire).
/// </summary>
internal static class ManagedSegmentLayout
{
    internal const int ControlBlockOffset = 64;
    internal const int HeapNextOffset = 64;
    internal const int HeapEndOffset = 72;
    internal const int TokenSemaphoreIdOffset = 80;
    internal const int ParticipantTableOffsetOffset = 84;
    internal const int DirectoryOffsetOffset = 88;
    internal const int HeapStartOffset = 96;
    internal const int InitializerTokenIndexOffset = 104;
    internal const int ParticipantTableStart = 128;

    /// <summary>Heap allocations are 128-byte aligned: two cache lines, so no two structures share one (nor the adjacent-line prefetch pair).</summary>
    internal const int HeapAlignment = 128;

    internal const int MaxParticipants = 4095;
    internal const int MaxDirectoryEntries = 65535;

    /// <summary>Where a managed segment's initializer records its liveness token (for <see cref="StructureHeader.Acquire"/>).</summary>
    internal static readonly InitializerTokenField InitializerToken = new(TokenSemaphoreIdOffset, InitializerTokenIndexOffset);

    internal static long DirectoryOffset(int participants) => ParticipantTableStart + ((long)participants * ParticipantTable.SlotSize);

    internal static long HeapStart(int participants, int entries) =>
        AlignUp(DirectoryOffset(participants) + ((long)entries * ManagedDirectory.EntrySize));

    internal static long AlignUp(long value) => (value + HeapAlignment - 1) & ~(long)(HeapAlignment - 1);

    internal static long KindParameter(int participants, int entries) => (uint)participants | ((long)(uint)entries << 32);

    /// <summary>The validated numbers of a Ready managed segment's control block.</summary>
    internal readonly record struct Control(int Participants, int Entries, long DirectoryOffset, long HeapStart, long HeapEnd, int TokenSemaphoreId);

    /// <summary>Checks the control block against the header and the real segment size, in a fixed number of steps.</summary>
    internal static Control Validate(in RegionLease lease, in HeaderSnapshot header, in ShmSite site)
    {
        long p = header.KindParameter & 0xFFFF_FFFF;
        long d = header.KindParameter >>> 32;
        if (p is < 1 or > MaxParticipants)
        {
            throw ShmErrors.Layout(site, StructureHeader.KindParameterOffset, "participant capacity (kindParameter bits 0..31)",
                string.Create(CultureInfo.InvariantCulture, $"1..{MaxParticipants}"), p.ToString(CultureInfo.InvariantCulture));
        }

        if (d is < 1 or > MaxDirectoryEntries)
        {
            throw ShmErrors.Layout(site, StructureHeader.KindParameterOffset + 4, "directory capacity (kindParameter bits 32..63)",
                string.Create(CultureInfo.InvariantCulture, $"1..{MaxDirectoryEntries}"), d.ToString(CultureInfo.InvariantCulture));
        }

        int participants = (int)p;
        int entries = (int)d;
        long directory = DirectoryOffset(participants);
        long heapStart = HeapStart(participants, entries);
        if (heapStart > header.TotalSize)
        {
            throw ShmErrors.Layout(site, StructureHeader.TotalSizeOffset, "totalSize",
                string.Create(CultureInfo.InvariantCulture, $"at least {heapStart} bytes for {participants} participants and {entries} directory entries"),
                string.Create(CultureInfo.InvariantCulture, $"{header.TotalSize} bytes"));
        }

        Expect(lease, site, ParticipantTableOffsetOffset, "participantTableOffset", ParticipantTableStart, lease.Ref<int>(ParticipantTableOffsetOffset));
        Expect(lease, site, DirectoryOffsetOffset, "directoryOffset", directory, lease.Ref<int>(DirectoryOffsetOffset));
        Expect(lease, site, HeapStartOffset, "heapStart", heapStart, lease.Ref<long>(HeapStartOffset));
        Expect(lease, site, HeapEndOffset, "heapEnd", header.TotalSize, lease.Ref<long>(HeapEndOffset));
        long next = Volatile.Read(ref lease.Ref<long>(HeapNextOffset));
        CheckHeapNext(site, next, heapStart, header.TotalSize);
        int tokens = lease.Ref<int>(TokenSemaphoreIdOffset);
        if (tokens < 0)
        {
            throw ShmErrors.Layout(site, TokenSemaphoreIdOffset, "tokenSemaphoreId", "the id (0 or more) of the liveness-token semaphore set",
                tokens.ToString(CultureInfo.InvariantCulture));
        }

        return new Control(participants, entries, directory, heapStart, header.TotalSize, tokens);
    }

    internal static void CheckHeapNext(in ShmSite site, long next, long heapStart, long heapEnd)
    {
        if (next < heapStart || next > heapEnd || (next & (HeapAlignment - 1)) != 0)
        {
            throw ShmErrors.Layout(site, HeapNextOffset, "heapNext",
                string.Create(CultureInfo.InvariantCulture, $"a 128-aligned offset in {heapStart}..{heapEnd}"), next.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static void Expect(in RegionLease lease, in ShmSite site, long offset, string field, long expected, long found)
    {
        _ = lease;
        if (expected != found)
        {
            throw ShmErrors.Layout(site, offset, field, expected, found);
        }
    }
}
