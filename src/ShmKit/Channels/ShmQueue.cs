using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace ShmKit;

/// <summary>
/// A queue of variable-length messages between processes, in a ring inside shared memory: zero-copy (producers fill
/// the ring in place, consumers read it in place), no system call per message, and safe when a peer dies or writes
/// garbage. It lives in a <see cref="ManagedSegment"/> under a name (<see cref="OpenOrCreate(ManagedSegment, string, ShmQueueOptions?, TimeSpan?, CancellationToken)"/>),
/// or in a segment of its own (<see cref="Create(IpcKey, ShmQueueOptions?)"/>).
/// </summary>
/// <remarks>
/// <para><b>Modes.</b> <see cref="ShmQueueMode.SingleProducerSingleConsumer"/> (the fast path) or
/// <see cref="ShmQueueMode.MultiProducerMultiConsumer"/>, fixed at creation; opening with another mode is a
/// <see cref="ShmQueueModeMismatchException"/>.</para>
/// <para><b>Use.</b> <see cref="CreateProducer"/> and <see cref="CreateConsumer"/> give the handles that move
/// messages; this object is the queue's description and its statistics. Messages longer than
/// <see cref="MaxMessageLength"/> are refused up front with an <see cref="ArgumentOutOfRangeException"/>.</para>
/// <para><b>Crash rules</b> (docs/CHANNELS.md): a producer killed between reserve and commit never blocks the queue
/// and its record is never delivered; a consumer killed holding a message has it delivered again, flagged
/// (at-least-once for that message); nothing committed is lost or duplicated otherwise; survivors go on without
/// manual cleanup. Deaths are seen through the managed segment's participant table (SEM_UNDO tokens, /proc, pidfds)
/// in milliseconds.</para>
/// <para><b>Lifetime.</b> <see cref="Dispose"/> disposes the producers and consumers created here (each finishes an
/// outstanding lease first), then, for a queue in a segment of its own, that managed segment. It removes nothing:
/// the queue outlives any one process; remove its segment with <see cref="ManagedSegment.Remove"/>
/// (<see cref="Segment"/>).</para>
/// </remarks>
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix",
    Justification = "It is a queue, as System.Messaging.MessageQueue and ShmKit.MessageQueue are. It does not derive from Queue<T> or ICollection.")]
public sealed unsafe partial class ShmQueue : IDisposable
{
    /// <summary>The name of the queue in a segment of its own.</summary>
    public const string OwnSegmentQueueName = "shmkit.queue";

    private readonly QueueRing _ring;
    private readonly bool _ownsSegment;
    private readonly List<IDisposable> _handles = [];
    private int _disposed;

    private ShmQueue(QueueRing ring, bool ownsSegment, bool wasCreated)
    {
        _ring = ring;
        _ownsSegment = ownsSegment;
        WasCreated = wasCreated;
    }

    /// <summary>The queue's name in its managed segment.</summary>
    public string Name => _ring.Name;

    /// <summary>Single-producer/single-consumer or multi-producer/multi-consumer.</summary>
    public ShmQueueMode Mode => _ring.Mode;

    /// <summary>The ring's size in bytes.</summary>
    public long Capacity => _ring.Capacity;

    /// <summary>The longest message, in bytes.</summary>
    public int MaxMessageLength => _ring.MaxMessageLength;

    /// <summary>The managed segment the queue lives in (owned by this object for a queue in a segment of its own).</summary>
    public ManagedSegment Segment => _ring.Segment;

    /// <summary>The queue structure's offset in the segment (what a C peer using include/shmkit/shmkit_queue.h needs).</summary>
    public long Offset => _ring.Offset;

    /// <summary>True when this call created the queue.</summary>
    public bool WasCreated { get; }

    /// <summary>
    /// Creates a producer. In SPSC mode it takes the producer role (a live holder → <see cref="ShmQueueRoleInUseException"/>;
    /// a dead one's role is taken over).
    /// </summary>
    /// <param name="options">How it waits when the ring is full; null for the defaults.</param>
    /// <returns>The producer; dispose it to give the role back.</returns>
    public ShmQueueProducer CreateProducer(ShmQueueProducerOptions? options = null)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var producer = new ShmQueueProducer(this, _ring, options ?? ShmQueueProducerOptions.Default);
        Track(producer);
        return producer;
    }

    /// <summary>
    /// Creates a consumer. In SPSC mode it takes the consumer role (a live holder → <see cref="ShmQueueRoleInUseException"/>;
    /// a dead one's role is taken over, and what it may have seen is redelivered, flagged).
    /// </summary>
    /// <param name="options">How it waits when the ring is empty; null for the defaults.</param>
    /// <returns>The consumer; dispose it to give the role back.</returns>
    public ShmQueueConsumer CreateConsumer(ShmQueueConsumerOptions? options = null)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var consumer = new ShmQueueConsumer(this, _ring, options ?? ShmQueueConsumerOptions.Default);
        Track(consumer);
        return consumer;
    }

    /// <summary>
    /// The queue's counters and positions, read from shared memory now (each value atomically; together they may be
    /// a few messages apart). For <c>shmkit inspect</c> and metrics. Costs a few loads, plus a /proc look-up per role.
    /// </summary>
    /// <returns>The snapshot.</returns>
    public ShmQueueStatistics GetStatistics()
    {
        using RegionLease lease = _ring.Segment.Region.Acquire();
        byte* b = lease.Pointer(_ring.Offset, QueueLayout.DataOffset);
        long Read(int offset) => Volatile.Read(ref *(long*)(b + offset));
        ulong head = (ulong)Read(QueueLayout.HeadOffset);
        ulong tail = (ulong)Read(QueueLayout.TailOffset);
        return new ShmQueueStatistics
        {
            Mode = Mode,
            Capacity = Capacity,
            Head = head,
            Tail = tail,
            ReadCursor = Mode == ShmQueueMode.MultiProducerMultiConsumer ? (ulong)Read(QueueLayout.ReadCursorOffset) : head,
            MessagesIn = Read(QueueLayout.MessagesInOffset),
            BytesIn = Read(QueueLayout.BytesInOffset),
            MessagesOut = Read(QueueLayout.MessagesOutOffset),
            BytesOut = Read(QueueLayout.BytesOutOffset),
            FullWaits = Read(QueueLayout.FullWaitsOffset),
            EmptyWaits = Read(QueueLayout.EmptyWaitsOffset),
            Redeliveries = Read(QueueLayout.RedeliveriesOffset),
            AbandonedRecords = Read(QueueLayout.AbandonedRecordsOffset),
            ProducerProcessId = RoleHolder(Read(QueueLayout.ProducerRoleOffset)),
            ConsumerProcessId = RoleHolder(Read(QueueLayout.ConsumerRoleOffset)),
        };
    }

    /// <summary>
    /// Disposes the producers and consumers created from this object, then (for a queue in a segment of its own) the
    /// managed segment. Removes nothing. Idempotent.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        IDisposable[] handles;
        lock (_handles)
        {
            handles = [.. _handles];
            _handles.Clear();
        }

        foreach (IDisposable handle in handles)
        {
            handle.Dispose();
        }

        if (_ownsSegment)
        {
            _ring.Segment.Dispose();
        }
    }

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"queue '{Name}' ({Mode}, {Capacity} bytes) at offset {Offset} of the {_ring.Site.Describe()}");

    /// <summary>A handle was disposed: stop tracking it.</summary>
    internal void Forget(IDisposable handle)
    {
        lock (_handles)
        {
            _handles.Remove(handle);
        }
    }

    private void Track(IDisposable handle)
    {
        lock (_handles)
        {
            _handles.Add(handle);
        }

        if (Volatile.Read(ref _disposed) != 0)
        {
            handle.Dispose(); // raced with Dispose
            throw new ObjectDisposedException(nameof(ShmQueue));
        }
    }

    private int RoleHolder(long word)
    {
        if (word == 0 || Mode != ShmQueueMode.SingleProducerSingleConsumer)
        {
            return 0;
        }

        int owner = (int)word;
        return owner != 0 ? _ring.Participants.ProcessIdOf(owner) : (int)(word >>> 32);
    }
}
