using System.Globalization;
using System.Runtime.InteropServices;

namespace ShmKit;

/// <summary>
/// One opened queue structure: where it is, its validated configuration (read once at open and never again, so a
/// peer that rewrites the config later changes nothing here), and the pieces the handles share. Pointers from
/// <see cref="Base"/> are valid only while the caller holds a reference on the mapping (a handle holds one for its
/// lifetime, see <see cref="QueueHandleGate"/>; other operations take a <see cref="RegionLease"/>).
/// </summary>
internal sealed unsafe class QueueRing
{
    private static int s_nextTag;

    internal QueueRing(ManagedSegment segment, string name, long offset, ShmQueueMode mode, long capacity, int maxMessageLength)
    {
        Segment = segment;
        Name = name;
        Offset = offset;
        Mode = mode;
        Capacity = capacity;
        Mask = (ulong)capacity - 1;
        MaxMessageLength = maxMessageLength;
        HeaderSize = ShmQueueOptions.HeaderSizeOf(mode);
        Alignment = mode == ShmQueueMode.SingleProducerSingleConsumer ? QueueLayout.SpscAlignment : QueueLayout.MpmcAlignment;
        Region = segment.Attachment.Region;
        Base = Region.Base + offset;
        Site = segment.Site;
        Participants = new QueueParticipants(segment);
    }

    internal ManagedSegment Segment { get; }

    internal string Name { get; }

    /// <summary>The structure's offset in the segment.</summary>
    internal long Offset { get; }

    internal ShmQueueMode Mode { get; }

    internal bool IsMpmc => Mode == ShmQueueMode.MultiProducerMultiConsumer;

    internal long Capacity { get; }

    internal ulong Mask { get; }

    internal int MaxMessageLength { get; }

    internal int HeaderSize { get; }

    internal int Alignment { get; }

    internal AttachedRegion Region { get; }

    /// <summary>The mapping's handle, for waits that must keep it mapped (FutexWaitThread AddRefs it).</summary>
    internal SafeHandle Handle => Region.Handle;

    /// <summary>The structure's first byte (dereference only while holding a reference on the mapping).</summary>
    internal byte* Base { get; }

    internal ShmSite Site { get; }

    internal QueueParticipants Participants { get; }

    /// <summary>A process-local, non-zero tag for a handle's role word (high 32 bits).</summary>
    internal static int NextHandleTag()
    {
        int tag;
        do
        {
            tag = Interlocked.Increment(ref s_nextTag);
        }
        while (tag == 0);
        return tag;
    }

    /// <summary>
    /// Claims an SPSC role word: CAS 0 → (owner id | tag &lt;&lt; 32), or takes it over from a dead holder (CAS
    /// dead → me). A live holder (in this process or another) is a <see cref="ShmQueueRoleInUseException"/>.
    /// Bounded: a word that keeps changing under the CAS is reported as in use.
    /// </summary>
    internal long ClaimRole(int roleOffset, string role, out bool tookOver)
    {
        long* word = (long*)(Base + roleOffset);
        long me = (uint)Participants.Self | ((long)NextHandleTag() << 32);
        int holderPid = 0;
        for (int attempt = 0; attempt < 16; attempt++)
        {
            long current = Volatile.Read(ref *word);
            if (current == 0)
            {
                if (Interlocked.CompareExchange(ref *word, me, 0) == 0)
                {
                    tookOver = false;
                    return me;
                }

                continue;
            }

            int owner = (int)current;
            int tag = (int)(current >>> 32);
            ShmParticipantLiveness liveness = owner != 0 ? Participants.Check(owner) : QueueParticipants.CheckPid(tag);
            if (liveness == ShmParticipantLiveness.Dead)
            {
                if (Interlocked.CompareExchange(ref *word, me, current) == current)
                {
                    tookOver = true;
                    return me;
                }

                continue;
            }

            holderPid = owner == Participants.Self ? Environment.ProcessId : owner != 0 ? Participants.ProcessIdOf(owner) : tag;
            break;
        }

        throw new ShmQueueRoleInUseException(
            string.Create(CultureInfo.InvariantCulture,
                $"The single-producer/single-consumer queue '{Name}' in the {Site.Describe()} already has a live {role}{(holderPid > 0 ? $" (pid {holderPid}{(holderPid == Environment.ProcessId ? ", this process" : string.Empty)})" : string.Empty)}. Dispose that {role} first, or use a queue created with ShmQueueMode.MultiProducerMultiConsumer."),
            Site.Key, Site.Id, role, holderPid);
    }

    /// <summary>Gives a role back (CAS me → 0); a word that no longer holds this claim is left alone.</summary>
    internal void ReleaseRole(int roleOffset, long claim)
    {
        long* word = (long*)(Base + roleOffset);
        Interlocked.CompareExchange(ref *word, 0, claim);
    }

    /// <summary>The corruption error, with the ring positions this process knew.</summary>
    internal ShmQueueCorruptedException Corrupted(string field, int fieldOffset, ulong position, ulong head, ulong tail, string detail) =>
        new(string.Create(CultureInfo.InvariantCulture,
                $"The queue '{Name}' in the {Site.Describe()} is corrupted: {field} (offset {Offset + fieldOffset} in the segment) {detail} (position {position}, head {head}, tail {tail}, capacity {Capacity}). Another process wrote something the queue protocol does not allow; nothing was read or written outside the ring. Remove the segment ({Site.RemoveHint()}) and create it again."),
            Site.Key, Site.Id, field, Offset + fieldOffset, position, head, tail);

    /// <summary>The corruption error for a record header.</summary>
    internal ShmQueueCorruptedException CorruptRecord(ulong position, ulong head, ulong tail, string detail) =>
        Corrupted("record header", QueueLayout.DataOffset + (int)(position & Mask), position, head, tail, detail);

    /// <summary>The message-too-long error, before anything is written.</summary>
    internal ArgumentOutOfRangeException TooLong(int length, string parameter) =>
        new(parameter, length, string.Create(CultureInfo.InvariantCulture,
            $"A message of {length} bytes does not fit the queue '{Name}': it takes messages of at most {MaxMessageLength} bytes (ring of {Capacity} bytes). Split it, or create the queue with a larger capacity."));
}
