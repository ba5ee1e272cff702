namespace ShmKit;

/// <summary>
/// A snapshot of a queue's state and counters (<see cref="ShmQueue.GetStatistics"/>), read from the blocks each side
/// writes anyway: counting costs the hot path nothing extra. Each value is read atomically; together they may be a
/// few messages apart.
/// </summary>
public readonly record struct ShmQueueStatistics
{
    /// <summary>The queue's mode.</summary>
    public ShmQueueMode Mode { get; init; }

    /// <summary>The ring's size in bytes.</summary>
    public long Capacity { get; init; }

    /// <summary>The consumer position: ring bytes below it are free for producers.</summary>
    public ulong Head { get; init; }

    /// <summary>The producer position (SPSC: published; MPMC: reserved).</summary>
    public ulong Tail { get; init; }

    /// <summary>MPMC: the first record no consumer has claimed (SPSC: the same as <see cref="Head"/>).</summary>
    public ulong ReadCursor { get; init; }

    /// <summary>Ring bytes in use (records and padding between head and tail).</summary>
    public long UsedBytes => Tail >= Head ? (long)(Tail - Head) : 0;

    /// <summary>Messages committed by producers.</summary>
    public long MessagesIn { get; init; }

    /// <summary>Payload bytes committed by producers.</summary>
    public long BytesIn { get; init; }

    /// <summary>Messages handed to consumers (SPSC: released; MPMC: claimed), redeliveries included.</summary>
    public long MessagesOut { get; init; }

    /// <summary>Payload bytes handed to consumers.</summary>
    public long BytesOut { get; init; }

    /// <summary>Messages waiting, by the counters (committed minus handed out, redeliveries aside).</summary>
    public long Depth => Math.Max(0, MessagesIn - (MessagesOut - Redeliveries));

    /// <summary>How often a producer found the ring full and waited.</summary>
    public long FullWaits { get; init; }

    /// <summary>How often a consumer found the ring empty and waited.</summary>
    public long EmptyWaits { get; init; }

    /// <summary>Messages delivered again because a consumer may have seen them before it died.</summary>
    public long Redeliveries { get; init; }

    /// <summary>MPMC: records of producers that died before committing, turned into padding (never delivered).</summary>
    public long AbandonedRecords { get; init; }

    /// <summary>SPSC: the pid of the producer role's holder (0 when none; it may be dead until someone takes the role over).</summary>
    public int ProducerProcessId { get; init; }

    /// <summary>SPSC: the pid of the consumer role's holder (0 when none).</summary>
    public int ConsumerProcessId { get; init; }
}
