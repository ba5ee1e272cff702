using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>
/// Reads messages from a <see cref="ShmQueue"/> (<see cref="ShmQueue.CreateConsumer"/>): zero-copy through
/// <see cref="Receive(TimeSpan?, CancellationToken)"/> (a <see cref="ShmQueueReadLease"/> over the ring, released
/// when disposed), or by copy into a span, an <see cref="IBufferWriter{T}"/> or an unmanaged value.
/// </summary>
/// <remarks>
/// <para><b>Roles.</b> In a single-producer/single-consumer queue this handle holds the consumer role for its
/// lifetime; a second live consumer is refused (<see cref="ShmQueueRoleInUseException"/>), a dead one's role is taken
/// over, and the messages the dead consumer may have seen but not released (or released without publishing) come
/// again, flagged <see cref="ShmQueueReadLease.IsRedelivery"/>. In a multi-consumer queue each message goes to exactly
/// one consumer; a message whose consumer died holding it is delivered again to another one, flagged.</para>
/// <para><b>Threads.</b> One thread at a time uses a consumer (one lease at a time). <see cref="Dispose"/> may be
/// called from any thread: it wakes a wait in progress and waits for an outstanding lease to end.</para>
/// <para><b>Checks before changes.</b> A copying receive that cannot deliver (destination too short, the buffer
/// writer throws, a typed receive of the wrong size) leaves the message in the queue: nothing is lost.</para>
/// <para><b>Empty ring.</b> Blocking calls wait with the consumer's <see cref="ShmWaitStrategy"/>: an idle consumer
/// that sleeps makes no wake-ups; producers make no system call unless a consumer sleeps.</para>
/// <para><b>MPMC claim latch.</b> In a multi-producer/multi-consumer queue every call claims its record under a short
/// robust latch shared by all consumers; a holder that died is replaced at once. A <c>Try</c> call waits for a live holder
/// at most 10 s (then <see cref="TimeoutException"/>): only a stopped or stuck process holds it that long.</para>
/// </remarks>
public sealed unsafe partial class ShmQueueConsumer : IDisposable
{
    private readonly ShmQueue _queue;
    private readonly QueueRing _ring;
    private readonly bool _mpmc;
    private readonly byte* _base;
    private readonly byte* _data;
    private readonly ulong _capacity;
    private readonly ulong _mask;
    private readonly int _max;
    private readonly int _me;
    private readonly long _role;
    private readonly ShmWaitStrategy _strategy;

    private QueueHandleGate _gate;

    // SPSC positions (process memory): _head is where the next record starts (everything below was released, maybe
    // not yet published), _publishedHead what the producer can see, _cachedTail the last tail read (only grows),
    // _redeliverUntil the end of what a dead predecessor may have seen.
    private ulong _head;
    private ulong _publishedHead;
    private ulong _cachedTail;
    private readonly ulong _redeliverUntil;

    // The message in flight.
    private bool _leased;
    private int _leaseId;
    private ulong _leasePosition;
    private ulong _leaseEnd;
    private int _leaseLength;
    private bool _leaseRedelivery;
    private long _leaseControl;
    private bool _pendingPublish;

    private FutexInterrupt? _sleeper;
    private CancellationTokenSource? _disposeSource;

    internal ShmQueueConsumer(ShmQueue queue, QueueRing ring, ShmQueueConsumerOptions options)
    {
        _queue = queue;
        _ring = ring;
        _mpmc = ring.IsMpmc;
        _capacity = (ulong)ring.Capacity;
        _mask = ring.Mask;
        _max = ring.MaxMessageLength;
        _me = ring.Participants.Self;
        _strategy = options.WaitStrategy;
        ring.Region.AddRef(); // given back in Shutdown
        _base = ring.Base;
        _data = _base + QueueLayout.DataOffset;
        try
        {
            if (_mpmc)
            {
                return;
            }

            _role = ring.ClaimRole(QueueLayout.ConsumerRoleOffset, "consumer", out bool tookOver);
            ulong head = Volatile.Read(ref *Head);
            ulong tail = Volatile.Read(ref *Tail);
            ulong leasedUntil = Volatile.Read(ref *LeasedUntil);
            if (((head | tail | leasedUntil) & 7) != 0 || tail < head || tail - head > _capacity || leasedUntil > tail || (leasedUntil != 0 && leasedUntil < head))
            {
                ring.ReleaseRole(QueueLayout.ConsumerRoleOffset, _role);
                throw ring.Corrupted("head", QueueLayout.HeadOffset, head, head, tail,
                    string.Create(CultureInfo.InvariantCulture, $"and leasedUntil {leasedUntil} are not valid consumer positions against tail"));
            }

            _head = _publishedHead = _cachedTail = head;
            _redeliverUntil = leasedUntil > head ? leasedUntil : head;
            if (tookOver)
            {
                EventCount.WakeAll(NotEmpty); // the dead consumer may have been counted as asleep
            }
        }
        catch
        {
            ring.Region.Exit();
            throw;
        }
    }

    /// <summary>The queue this consumer reads from.</summary>
    public ShmQueue Queue => _queue;

    /// <summary>How blocking calls wait for a message.</summary>
    public ShmWaitStrategy WaitStrategy => _strategy;

    /// <summary>The longest message the queue takes, in bytes.</summary>
    public int MaxMessageLength => _max;

    private ulong* Tail => (ulong*)(_base + QueueLayout.TailOffset);

    private ulong* Head => (ulong*)(_base + QueueLayout.HeadOffset);

    private ulong* LeasedUntil => (ulong*)(_base + QueueLayout.LeasedUntilOffset);

    private long* NotEmpty => (long*)(_base + QueueLayout.NotEmptyOffset);

    private long* NotFull => (long*)(_base + QueueLayout.NotFullOffset);

    /// <summary>Receives the next message in place, if there is one now.</summary>
    /// <param name="lease">The message (see <see cref="ShmQueueReadLease"/> for how long its span is valid).</param>
    /// <returns>False when the queue is empty.</returns>
    /// <exception cref="InvalidOperationException">A lease of this consumer is still out.</exception>
    /// <exception cref="ShmQueueCorruptedException">The producer's index or a record header is not what the protocol allows.</exception>
    public bool TryReceive(out ShmQueueReadLease lease)
    {
        Enter();
        bool received = false;
        try
        {
            received = TryReceiveCore(false, MonotonicClock.Infinite, default, out _);
            lease = received ? MakeLease() : default;
            return received;
        }
        finally
        {
            if (!received)
            {
                Exit();
            }
        }
    }

    /// <summary>Receives the next message in place, waiting for one.</summary>
    /// <param name="timeout">How long to wait; null waits as long as it takes.</param>
    /// <param name="cancellationToken">Ends the wait (the wait is woken, nothing polls).</param>
    /// <returns>The message.</returns>
    /// <exception cref="TimeoutException">No message within the timeout.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The consumer was disposed (also while waiting).</exception>
    public ShmQueueReadLease Receive(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        long deadline = MonotonicClock.DeadlineAfter(timeout);
        Enter();
        bool received = false;
        try
        {
            ReceiveCore(deadline, timeout, cancellationToken);
            received = true;
            return MakeLease();
        }
        finally
        {
            if (!received)
            {
                Exit();
            }
        }
    }

    /// <summary>Copies the next message into <paramref name="destination"/>, if there is one now.</summary>
    /// <param name="destination">Where to copy it; too short → <see cref="ArgumentException"/> and the message stays in the queue.</param>
    /// <param name="length">The message's length.</param>
    /// <returns>False when the queue is empty.</returns>
    public bool TryReceive(Span<byte> destination, out int length)
    {
        Enter();
        try
        {
            if (!TryReceiveCore(false, MonotonicClock.Infinite, default, out _))
            {
                length = 0;
                return false;
            }

            length = CopyAndRelease(destination);
            return true;
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Copies the next message into <paramref name="destination"/>, waiting for one.</summary>
    /// <param name="destination">Where to copy it; too short → <see cref="ArgumentException"/> and the message stays in the queue.</param>
    /// <param name="timeout">How long to wait; null waits as long as it takes.</param>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns>The message's length.</returns>
    public int Receive(Span<byte> destination, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        long deadline = MonotonicClock.DeadlineAfter(timeout);
        Enter();
        try
        {
            ReceiveCore(deadline, timeout, cancellationToken);
            return CopyAndRelease(destination);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Copies the next message into <paramref name="writer"/> (GetSpan(length), copy, Advance(length)), if there is
    /// one now. If the writer throws, the message stays in the queue.
    /// </summary>
    /// <param name="writer">The destination.</param>
    /// <param name="length">The message's length.</param>
    /// <returns>False when the queue is empty.</returns>
    public bool TryReceive(IBufferWriter<byte> writer, out int length)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Enter();
        try
        {
            if (!TryReceiveCore(false, MonotonicClock.Infinite, default, out _))
            {
                length = 0;
                return false;
            }

            length = WriteAndRelease(writer);
            return true;
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Copies the next message into <paramref name="writer"/>, waiting for one. If the writer throws, the message stays in the queue.</summary>
    /// <param name="writer">The destination.</param>
    /// <param name="timeout">How long to wait; null waits as long as it takes.</param>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns>The message's length.</returns>
    public int Receive(IBufferWriter<byte> writer, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writer);
        long deadline = MonotonicClock.DeadlineAfter(timeout);
        Enter();
        try
        {
            ReceiveCore(deadline, timeout, cancellationToken);
            return WriteAndRelease(writer);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Receives a message of exactly sizeof(T) bytes as a value, if there is one now.</summary>
    /// <typeparam name="T">An unmanaged type (the producer's <see cref="ShmQueueProducer.Enqueue{T}(in T, TimeSpan?, CancellationToken)"/>).</typeparam>
    /// <param name="value">The value.</param>
    /// <returns>False when the queue is empty.</returns>
    /// <exception cref="InvalidDataException">The next message has another size; it stays in the queue.</exception>
    public bool TryReceive<T>(out T value)
        where T : unmanaged
    {
        Enter();
        try
        {
            if (!TryReceiveCore(false, MonotonicClock.Infinite, default, out _))
            {
                value = default;
                return false;
            }

            value = ReadValueAndRelease<T>();
            return true;
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Receives a message of exactly sizeof(T) bytes as a value, waiting for one.</summary>
    /// <typeparam name="T">An unmanaged type.</typeparam>
    /// <param name="timeout">How long to wait; null waits as long as it takes.</param>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns>The value.</returns>
    /// <exception cref="InvalidDataException">The next message has another size; it stays in the queue.</exception>
    public T Receive<T>(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        where T : unmanaged
    {
        long deadline = MonotonicClock.DeadlineAfter(timeout);
        Enter();
        try
        {
            ReceiveCore(deadline, timeout, cancellationToken);
            return ReadValueAndRelease<T>();
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Gives back the ring space of every message released with <c>publish: false</c> (one index publication and one
    /// wake-up check for all of them). Does nothing when there are none.
    /// </summary>
    public void Publish()
    {
        Enter();
        try
        {
            PublishCore();
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Ends this consumer: publishes its releases, gives the consumer role back (SPSC) and the reference on the
    /// mapping. Wakes a blocking call in progress (it throws <see cref="ObjectDisposedException"/>); if a lease is
    /// out, the rest happens when it ends. Idempotent; any thread.
    /// </summary>
    public void Dispose()
    {
        if (!_gate.BeginDispose())
        {
            return;
        }

        Interlocked.CompareExchange(ref _sleeper, null, null)?.Signal();
        Interlocked.CompareExchange(ref _disposeSource, null, null)?.Cancel();
        _queue.Forget(this);
        if (_gate.FinishDispose())
        {
            Shutdown();
        }
    }

    [DoesNotReturn]
    internal static void ThrowLeaseEnded() =>
        throw new InvalidOperationException("The queue lease has been released; its span is no longer valid.");

    internal bool IsLeaseActive(int id) => _leased && _leaseId == id;

    internal void ReleaseLease(int id, bool publish)
    {
        if (!IsLeaseActive(id))
        {
            return;
        }

        try
        {
            ReleaseCore(publish);
        }
        finally
        {
            Exit();
        }
    }

    private ShmQueueReadLease MakeLease() =>
        new(this, new ReadOnlySpan<byte>(LeasePayload, _leaseLength), ++_leaseId, _leaseRedelivery);

    private int CopyAndRelease(Span<byte> destination)
    {
        int length = _leaseLength;
        if (destination.Length < length)
        {
            PutBack();
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The next message of the queue '{_ring.Name}' is {length} bytes; the destination holds {destination.Length}. The message stays in the queue."), nameof(destination));
        }

        new ReadOnlySpan<byte>(LeasePayload, length).CopyTo(destination);
        ReleaseCore(publish: true);
        return length;
    }

    private int WriteAndRelease(IBufferWriter<byte> writer)
    {
        int length = _leaseLength;
        try
        {
            Span<byte> target = writer.GetSpan(length);
            new ReadOnlySpan<byte>(LeasePayload, length).CopyTo(target);
            writer.Advance(length);
        }
        catch
        {
            PutBack();
            throw;
        }

        ReleaseCore(publish: true);
        return length;
    }

    private T ReadValueAndRelease<T>()
        where T : unmanaged
    {
        if (_leaseLength != sizeof(T))
        {
            int length = _leaseLength;
            PutBack();
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"The next message of the queue '{_ring.Name}' is {length} bytes, not the {sizeof(T)} bytes of {typeof(T).Name}. It stays in the queue: receive it as bytes."));
        }

        T value = Unsafe.ReadUnaligned<T>(LeasePayload);
        ReleaseCore(publish: true);
        return value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Enter()
    {
        if (_gate.IsBusy)
        {
            ThrowBusy();
        }

        if (!_gate.Enter(out bool shutdown))
        {
            EnterFailed(shutdown);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Exit()
    {
        if (_gate.Exit())
        {
            Shutdown();
        }
    }

    [DoesNotReturn]
    private void EnterFailed(bool shutdown)
    {
        if (shutdown)
        {
            Shutdown();
        }

        throw new ObjectDisposedException(nameof(ShmQueueConsumer));
    }

    [DoesNotReturn]
    private static void ThrowBusy() =>
        throw new InvalidOperationException("A lease of this queue consumer is still out (or another thread is using it): dispose it first. A consumer is used by one thread at a time.");

    /// <summary>Runs once, after Dispose and after the operation in flight: publish releases, role back, reference back.</summary>
    private void Shutdown()
    {
        try
        {
            PublishCore();
            if (!_mpmc)
            {
                *LeasedUntil = _publishedHead; // nothing handed out beyond what was released: the next consumer redelivers nothing
                _ring.ReleaseRole(QueueLayout.ConsumerRoleOffset, _role);
            }
        }
        finally
        {
            _ring.Region.Exit();
        }
    }
}
