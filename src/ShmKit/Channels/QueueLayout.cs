namespace ShmKit;

/// <summary>
/// The byte layout of a queue structure (docs/CHANNELS.md has the full table; include/shmkit/shmkit_queue.h is the
/// same layout for C). Offsets are from the structure's first byte, which is 128-byte aligned in its segment; all
/// values little-endian; positions are unbounded 64-bit byte counts (offset in the ring = position &amp; (capacity - 1)).
/// <code>
/// [0,64)      StructureHeader: kind Queue (16), flags = mode (0 SPSC, 1 MPMC), kindParameter = capacity
/// [64,128)    config, written by the creator before Ready, never changed after (readers cache it once):
///             64 capacity (8) · 72 maxMessageLength (4) · 76 recordHeaderSize (4: 8 SPSC, 16 MPMC) ·
///             80 recordAlignment (4: 8 SPSC, 16 MPMC) · 84 bodyVersion (4) = 1 · 88..96 reserved ·
///             96 producerRole (8) · 104 consumerRole (8) (SPSC role words, see below) · 112..128 reserved
/// [128,256)   PRODUCER block (written by producers only): 128 tail · 136 messagesIn · 144 bytesIn · 152 fullWaits
/// [256,384)   CONSUMER block (written by consumers only): 256 head · 264 messagesOut · 272 bytesOut ·
///             280 emptyWaits · 288 redeliveries · 296 leasedUntil (SPSC) · 304 abandonedRecords
/// [384,512)   NOT-EMPTY eventcount: 384 word (8) = waiter count (low 32 bits) | epoch (high 32; the futex word at 388)
/// [512,640)   NOT-FULL eventcount: 512 word, futex word at 516
/// [640,768)   MPMC producer claim latch: 640 latch word (4)
/// [768,896)   MPMC consumer claim block: 768 latch word (4) · 776 readCursor (8) · 784 redeliveryHint (4)
/// [896,1024)  reserved
/// [1024, 1024 + capacity)  the ring
/// </code>
/// </summary>
internal static class QueueLayout
{
    /// <summary>The directory's layout version for queues (and the config's bodyVersion).</summary>
    internal const ushort BodyVersion = 1;

    internal const int ConfigOffset = 64;
    internal const int CapacityOffset = 64;
    internal const int MaxMessageLengthOffset = 72;
    internal const int RecordHeaderSizeOffset = 76;
    internal const int RecordAlignmentOffset = 80;
    internal const int BodyVersionOffset = 84;

    /// <summary>
    /// SPSC role words (64-bit; 0 = free). A ShmKit holder writes its participant owner id in the low 32 bits and a
    /// process-local handle tag (non-zero) in the high 32; a peer that is not a participant (a C program using
    /// shmkit_queue.h) writes 0 in the low half and its pid in the high half. Changed only by CAS (claim 0 → me,
    /// take over dead → me, release me → 0); read (acquire) by claimers and by inspect.
    /// </summary>
    internal const int ProducerRoleOffset = 96;
    internal const int ConsumerRoleOffset = 104;

    internal const int ProducerBlockOffset = 128;

    /// <summary>
    /// tail: the end of the last published record. SPSC: written only by the producer role holder, with a release
    /// (Interlocked.Exchange, a full fence, which also orders it before the producer's read of the NOT-EMPTY waiter
    /// count); read by the consumer with an acquire load (pairs with that store: the records below it are complete).
    /// MPMC: the end of the last reserved record, written under the producer latch with a release store after the
    /// record headers (pairs with the consumers' acquire load: every header below tail is written).
    /// </summary>
    internal const int TailOffset = 128;

    /// <summary>Producer counters on the producer's own line: SPSC plain stores by the one producer, MPMC Interlocked; read by inspect (may be stale, never torn).</summary>
    internal const int MessagesInOffset = 136;
    internal const int BytesInOffset = 144;
    internal const int FullWaitsOffset = 152;

    internal const int ConsumerBlockOffset = 256;

    /// <summary>
    /// head: everything below it is free for producers. SPSC: written only by the consumer role holder with a release
    /// (Interlocked.Exchange: its reads of the records are done first, pairs with the producer's acquire load of head;
    /// the full fence also orders it before the read of the NOT-FULL waiter count). MPMC: advanced by CAS by any
    /// consumer over CONSUMED and PADDING records below readCursor (the CAS is the release).
    /// </summary>
    internal const int HeadOffset = 256;
    internal const int MessagesOutOffset = 264;
    internal const int BytesOutOffset = 272;
    internal const int EmptyWaitsOffset = 280;
    internal const int RedeliveriesOffset = 288;

    /// <summary>
    /// SPSC: the end of the last record the consumer handed to user code (plain store by the consumer before it hands
    /// the span out; read by the next consumer after it took the role over with a CAS). [head, leasedUntil) may have
    /// been seen by a consumer that died: those records are delivered again, flagged as redeliveries.
    /// </summary>
    internal const int LeasedUntilOffset = 296;

    /// <summary>Records of dead producers (MPMC) that were turned into padding, never delivered. Consumers, under the consumer latch.</summary>
    internal const int AbandonedRecordsOffset = 304;

    /// <summary>The NOT-EMPTY eventcount (consumers sleep on it; producers wake them). See <see cref="EventCount"/>.</summary>
    internal const int NotEmptyOffset = 384;

    /// <summary>The NOT-FULL eventcount (producers sleep on it; consumers wake them).</summary>
    internal const int NotFullOffset = 512;

    /// <summary>MPMC: the producers' claim latch (<see cref="RobustLatch"/>): owner id | WAITERS; futex word.</summary>
    internal const int ProducerLatchOffset = 640;

    /// <summary>MPMC: the consumers' claim latch.</summary>
    internal const int ConsumerLatchOffset = 768;

    /// <summary>
    /// MPMC readCursor: the first record no consumer has claimed yet. Written only by the consumer latch holder
    /// (release store after it changed the record's state); read under the latch, and by probes with acquire loads.
    /// head ≤ readCursor ≤ tail.
    /// </summary>
    internal const int ReadCursorOffset = 776;

    /// <summary>
    /// MPMC redeliveryHint: how many COMMITTED records may lie below readCursor (given back by a dead consumer).
    /// Incremented by whoever recovers one (under the consumer latch), decremented or reset by the latch holder that
    /// scans for them. A hint: too high costs one scan, and a scan that finds nothing resets it.
    /// </summary>
    internal const int RedeliveryHintOffset = 784;

    internal const int DataOffset = 1024;

    internal const int SpscHeaderSize = 8;
    internal const int SpscAlignment = 8;
    internal const int MpmcHeaderSize = 16;
    internal const int MpmcAlignment = 16;

    // SPSC record header (8 bytes): int length (payload bytes) @0, int flags @4.
    internal const int SpscFlagPadding = 1;

    // MPMC record header (16 bytes): int length (payload bytes committed) @0, int reserved (payload bytes the record
    // spans, fixed at reservation) @4, long control @8 = state (bits 0..7) | flags (bits 8..15) | owner id (bits 32..59).
    internal const int MpmcLengthOffset = 0;
    internal const int MpmcReservedOffset = 4;
    internal const int MpmcControlOffset = 8;

    internal const int StateProducing = 1;
    internal const int StateCommitted = 2;
    internal const int StateConsuming = 3;
    internal const int StateConsumed = 4;
    internal const int StatePadding = 5;
    internal const int FlagRedelivered = 0x100;

    /// <summary>The structure's size for a capacity: header, blocks and ring.</summary>
    internal static long StructureSize(long capacity) => DataOffset + capacity;

    internal static long Control(int state, int flags, int owner) => (uint)(state | flags) | ((long)owner << 32);

    internal static int StateOf(long control) => (int)(control & 0xFF);

    internal static int FlagsOf(long control) => (int)(control & 0xFF00);

    internal static int OwnerOf(long control) => (int)(control >>> 32);
}
