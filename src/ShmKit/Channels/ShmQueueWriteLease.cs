using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>
/// Space reserved in a queue's ring for one message (<see cref="ShmQueueProducer.Reserve"/>): fill
/// <see cref="Span"/> in place, then <see cref="Commit()"/>. Disposing it without committing abandons the
/// reservation: nothing is delivered. Use it with <c>using</c>, so the reservation ends on every path.
/// </summary>
/// <remarks>
/// <para><b>Buffer ownership.</b> <see cref="Span"/> is the ring's own memory in the shared segment, not a copy. It
/// is valid from the reservation until <see cref="Commit()"/>, <see cref="Commit(int, bool)"/> or
/// <see cref="Dispose"/>, whichever comes first, and no longer: after the commit the consumer may read and release
/// it and the producer may write the next lap over it. Never keep the span (or a pointer into it) past that point.
/// Until then the mapping cannot go away: the producer holds a reference on it, and disposing the producer or the
/// queue from another thread waits for the lease to end.</para>
/// <para>The bytes are not zeroed: write all of them, or commit a shorter length. Another process may write the
/// segment at any time; the producer's bytes are only as private as the segment's permissions make them.</para>
/// <para>A lease is a value: copies share the one reservation; it ends once, and later calls on any copy are no-ops
/// (<see cref="Dispose"/>) or throw (<see cref="Commit()"/>, <see cref="Span"/>). One lease per producer at a
/// time.</para>
/// </remarks>
public readonly ref struct ShmQueueWriteLease
{
    private readonly ShmQueueProducer? _producer;
    private readonly Span<byte> _span;
    private readonly int _id;

    internal ShmQueueWriteLease(ShmQueueProducer producer, Span<byte> span, int id)
    {
        _producer = producer;
        _span = span;
        _id = id;
    }

    /// <summary>The reserved payload bytes, in the ring (see the remarks for how long they are valid).</summary>
    /// <exception cref="InvalidOperationException">The lease has ended (committed or disposed), or is default.</exception>
    public Span<byte> Span
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if (_producer is null || !_producer.IsLeaseActive(_id))
            {
                ShmQueueProducer.ThrowLeaseEnded();
            }

            return _span;
        }
    }

    /// <summary>The number of bytes reserved.</summary>
    public int Length => _span.Length;

    /// <summary>True until the lease is committed or disposed.</summary>
    public bool IsActive => _producer is not null && _producer.IsLeaseActive(_id);

    /// <summary>Commits all reserved bytes and publishes them (the consumer may see the message from now on).</summary>
    /// <exception cref="InvalidOperationException">The lease has ended already.</exception>
    public void Commit() => Commit(_span.Length, publish: true);

    /// <summary>
    /// Commits the first <paramref name="length"/> bytes. With <paramref name="publish"/> false the message is not
    /// yet visible: several commits are then published together by the next publishing commit or
    /// <see cref="ShmQueueProducer.Publish"/>, with one index publication (and one wake-up check) for all of them.
    /// Unpublished messages are lost if the producer dies.
    /// </summary>
    /// <param name="length">0..<see cref="Length"/> bytes.</param>
    /// <param name="publish">Whether to publish now (default true).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is outside 0..<see cref="Length"/>.</exception>
    /// <exception cref="InvalidOperationException">The lease has ended already.</exception>
    public void Commit(int length, bool publish = true)
    {
        if (_producer is null)
        {
            ShmQueueProducer.ThrowLeaseEnded();
        }

        _producer.CommitLease(_id, length, publish);
    }

    /// <summary>Abandons the reservation if it was not committed (nothing is delivered); otherwise does nothing.</summary>
    public void Dispose() => _producer?.AbandonLease(_id);
}
