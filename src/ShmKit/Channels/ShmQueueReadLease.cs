using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>
/// One received message, in place in the queue's ring (<see cref="ShmQueueConsumer.Receive(TimeSpan?, CancellationToken)"/>):
/// read <see cref="Span"/>, then dispose the lease to release the message (its ring space goes back to the
/// producers). Use it with <c>using</c>.
/// </summary>
/// <remarks>
/// <para><b>Buffer ownership.</b> <see cref="Span"/> is the ring's own memory in the shared segment, not a copy. It
/// is valid from the receive until <see cref="Dispose"/> or <see cref="Release"/>, and no longer: after the release a
/// producer may write the next message over it. Copy out what must outlive the lease. Until then the mapping cannot
/// go away: the consumer holds a reference on it, and disposing the consumer or the queue from another thread waits
/// for the lease to end.</para>
/// <para><b>Trust.</b> The header was validated before the span was handed out (length, bounds), so the span never
/// reaches outside the ring. The bytes themselves are whatever the producer wrote; another process with access to the
/// segment may change them while you read. Validate what you parse.</para>
/// <para><b>Redelivery.</b> <see cref="IsRedelivery"/> is true when an earlier consumer may have seen this message
/// already (it died holding it, or before it published its release): at-least-once for that message, exactly-once
/// for all others.</para>
/// <para>A lease is a value: copies share the one message; it is released once, later calls are no-ops. One lease per
/// consumer at a time.</para>
/// </remarks>
public readonly ref struct ShmQueueReadLease
{
    private readonly ShmQueueConsumer? _consumer;
    private readonly ReadOnlySpan<byte> _span;
    private readonly int _id;

    internal ShmQueueReadLease(ShmQueueConsumer consumer, ReadOnlySpan<byte> span, int id, bool isRedelivery)
    {
        _consumer = consumer;
        _span = span;
        _id = id;
        IsRedelivery = isRedelivery;
    }

    /// <summary>The message's bytes, in the ring (see the remarks for how long they are valid).</summary>
    /// <exception cref="InvalidOperationException">The lease has been released, or is default.</exception>
    public ReadOnlySpan<byte> Span
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if (_consumer is null || !_consumer.IsLeaseActive(_id))
            {
                ShmQueueConsumer.ThrowLeaseEnded();
            }

            return _span;
        }
    }

    /// <summary>The message's length in bytes.</summary>
    public int Length => _span.Length;

    /// <summary>True when an earlier consumer may have seen this message already (it died holding it).</summary>
    public bool IsRedelivery { get; }

    /// <summary>True until the message is released.</summary>
    public bool IsActive => _consumer is not null && _consumer.IsLeaseActive(_id);

    /// <summary>
    /// Releases the message. With <paramref name="publish"/> false its ring space is not yet given back: several
    /// releases are then published together by the next publishing release or <see cref="ShmQueueConsumer.Publish"/>
    /// (one index publication for all). A consumer that dies before publishing has them redelivered.
    /// </summary>
    /// <param name="publish">Whether to give the space back now (default true).</param>
    public void Release(bool publish = true) => _consumer?.ReleaseLease(_id, publish);

    /// <summary>Releases the message and publishes (the same as <see cref="Release"/> with true). A no-op after a release.</summary>
    public void Dispose() => _consumer?.ReleaseLease(_id, publish: true);
}
