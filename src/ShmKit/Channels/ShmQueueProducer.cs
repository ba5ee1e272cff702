using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>
/// Writes messages into a <see cref="ShmQueue"/> (<see cref="ShmQueue.CreateProducer"/>): zero-copy through
/// <see cref="Reserve"/> (fill the ring in place, commit), or by copy (<see cref="Enqueue(ReadOnlySpan{byte}, TimeSpan?, CancellationToken)"/>,
/// <see cref="Enqueue{T}(in T, TimeSpan?, CancellationToken)"/>, <see cref="EnqueueAsync"/>).
/// </summary>
/// <remarks>
/// <para><b>Roles.</b> In a single-producer/single-consumer queue this handle holds the producer role for its
/// lifetime; a second live producer is refused (<see cref="ShmQueueRoleInUseException"/>), a dead one's role is taken
/// over. In a multi-producer queue any number of producers in any processes may exist.</para>
/// <para><b>Threads.</b> One thread at a time uses a producer (one lease at a time); create one producer per thread
/// in MPMC mode. <see cref="Dispose"/> may be called from any thread at any time: it wakes a wait in progress (which
/// then throws <see cref="ObjectDisposedException"/>) and waits for an outstanding lease to end before it lets go of
/// the mapping and the role.</para>
/// <para><b>Crashes.</b> A producer killed between reserve and commit loses only that message: in SPSC mode nothing
/// was published; in MPMC mode the record becomes padding as soon as a consumer finds its owner dead, and is never
/// delivered. Commits made with <c>publish: false</c> and not yet published are lost the same way.</para>
/// <para><b>Full ring.</b> Blocking calls wait with the producer's <see cref="ShmWaitStrategy"/> (or fail fast,
/// <see cref="ShmQueueFullMode.Fail"/>); the wait costs no CPU once it sleeps and ends on room, timeout, cancellation
/// or Dispose. The <c>Try</c> calls never wait for room.</para>
/// <para><b>MPMC claim latch.</b> In a multi-producer/multi-consumer queue every call claims its record under a short
/// robust latch shared by all producers; a holder that died is replaced at once. A <c>Try</c> call waits for a live holder
/// at most 10 s (then <see cref="TimeoutException"/>): only a stopped or stuck process holds it that long.</para>
/// </remarks>
public sealed unsafe partial class ShmQueueProducer : IDisposable
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
    private readonly ShmQueueFullMode _fullMode;

    private QueueHandleGate _gate;

    // Positions (process memory). SPSC: _tail is the end of the last commit (published or not), _publishedTail what
    // the consumer can see; _cachedHead the last head read (only grows). MPMC: _cachedHead only.
    private ulong _tail;
    private ulong _publishedTail;
    private ulong _cachedHead;

    // The reservation in flight.
    private bool _leased;
    private int _leaseId;
    private ulong _reservedAt;
    private int _reservedLength;
    private bool _pendingNotify;

    // The interrupt of the thread sleeping in a blocking call (Dispose signals it; private memory) and the token that
    // Dispose cancels for async waits. Written by the waiting thread, read by Dispose; Interlocked on both sides.
    private FutexInterrupt? _sleeper;
    private CancellationTokenSource? _disposeSource;

    internal ShmQueueProducer(ShmQueue queue, QueueRing ring, ShmQueueProducerOptions options)
    {
        _queue = queue;
        _ring = ring;
        _mpmc = ring.IsMpmc;
        _capacity = (ulong)ring.Capacity;
        _mask = ring.Mask;
        _max = ring.MaxMessageLength;
        _me = ring.Participants.Self;
        _strategy = options.WaitStrategy;
        _fullMode = options.FullMode;
        ring.Region.AddRef(); // this handle's reference on the mapping, given back in Shutdown
        _base = ring.Base;
        _data = _base + QueueLayout.DataOffset;
        try
        {
            if (_mpmc)
            {
                _cachedHead = Volatile.Read(ref *Head);
                return;
            }

            _role = ring.ClaimRole(QueueLayout.ProducerRoleOffset, "producer", out bool tookOver);
            ulong head = Volatile.Read(ref *Head);
            ulong tail = Volatile.Read(ref *Tail);
            if ((tail & 7) != 0 || (head & 7) != 0 || tail < head || tail - head > _capacity)
            {
                ring.ReleaseRole(QueueLayout.ProducerRoleOffset, _role);
                throw ring.Corrupted("tail", QueueLayout.TailOffset, tail, head, tail, "is not a valid producer position against head");
            }

            _tail = _publishedTail = tail;
            _cachedHead = head;
            if (tookOver)
            {
                EventCount.WakeAll(NotFull); // the dead producer may have been counted as asleep: drop its registration
            }
        }
        catch
        {
            ring.Region.Exit();
            throw;
        }
    }

    /// <summary>The queue this producer writes to.</summary>
    public ShmQueue Queue => _queue;

    /// <summary>How blocking calls wait for room.</summary>
    public ShmWaitStrategy WaitStrategy => _strategy;

    /// <summary>Whether blocking calls wait for room or fail fast.</summary>
    public ShmQueueFullMode FullMode => _fullMode;

    /// <summary>The longest message this queue takes, in bytes.</summary>
    public int MaxMessageLength => _max;

    private ulong* Tail => (ulong*)(_base + QueueLayout.TailOffset);

    private ulong* Head => (ulong*)(_base + QueueLayout.HeadOffset);

    private long* NotEmpty => (long*)(_base + QueueLayout.NotEmptyOffset);

    private long* NotFull => (long*)(_base + QueueLayout.NotFullOffset);

    /// <summary>
    /// Reserves <paramref name="length"/> bytes if the ring has room now, without waiting.
    /// </summary>
    /// <param name="length">The message's length: 0..<see cref="MaxMessageLength"/>.</param>
    /// <param name="lease">The reservation (see <see cref="ShmQueueWriteLease"/> for how long its span is valid).</param>
    /// <returns>False when the ring is full (the lease is default).</returns>
    /// <exception cref="ArgumentOutOfRangeException">The message can never fit this queue.</exception>
    /// <exception cref="InvalidOperationException">A lease of this producer is still out.</exception>
    /// <exception cref="ShmQueueCorruptedException">The consumer's index is not what the protocol allows.</exception>
    public bool TryReserve(int length, out ShmQueueWriteLease lease)
    {
        CheckLength(length);
        Enter();
        bool reserved = false;
        try
        {
            reserved = TryReserveCore(length, MonotonicClock.Infinite, default, out lease);
            return reserved;
        }
        finally
        {
            if (!reserved)
            {
                Exit();
            }
        }
    }

    /// <summary>
    /// Reserves <paramref name="length"/> bytes, waiting for room (or failing fast, by <see cref="FullMode"/>).
    /// </summary>
    /// <param name="length">The message's length: 0..<see cref="MaxMessageLength"/>.</param>
    /// <param name="timeout">How long to wait for room; null waits as long as it takes.</param>
    /// <param name="cancellationToken">Ends the wait (the wait itself is woken, nothing polls).</param>
    /// <returns>The reservation.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The message can never fit this queue.</exception>
    /// <exception cref="ShmQueueFullException">The ring is full and <see cref="FullMode"/> is Fail.</exception>
    /// <exception cref="TimeoutException">No room within the timeout.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The producer was disposed (also while waiting).</exception>
    public ShmQueueWriteLease Reserve(int length, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        CheckLength(length);
        long deadline = MonotonicClock.DeadlineAfter(timeout);
        Enter();
        bool reserved = false;
        try
        {
            reserved = TryReserveCore(length, deadline, cancellationToken, out ShmQueueWriteLease lease) || WaitAndReserve(length, deadline, timeout, cancellationToken, out lease);
            return lease;
        }
        finally
        {
            if (!reserved)
            {
                Exit();
            }
        }
    }

    /// <summary>Copies <paramref name="message"/> into the ring and publishes it, if there is room now.</summary>
    /// <param name="message">The message (0..<see cref="MaxMessageLength"/> bytes).</param>
    /// <returns>False when the ring is full.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The message can never fit this queue.</exception>
    public bool TryEnqueue(ReadOnlySpan<byte> message)
    {
        CheckLength(message.Length);
        Enter();
        try
        {
            if (!TryReserveCore(message.Length, MonotonicClock.Infinite, default, out _))
            {
                return false;
            }

            message.CopyTo(new Span<byte>(ReservedPayload, message.Length));
            CommitCore(message.Length, publish: true);
            return true;
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Copies <paramref name="message"/> into the ring and publishes it, waiting for room (or failing fast, by <see cref="FullMode"/>).</summary>
    /// <param name="message">The message (0..<see cref="MaxMessageLength"/> bytes).</param>
    /// <param name="timeout">How long to wait for room; null waits as long as it takes.</param>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <exception cref="ArgumentOutOfRangeException">The message can never fit this queue.</exception>
    /// <exception cref="ShmQueueFullException">The ring is full and <see cref="FullMode"/> is Fail.</exception>
    /// <exception cref="TimeoutException">No room within the timeout.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public void Enqueue(ReadOnlySpan<byte> message, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        CheckLength(message.Length);
        long deadline = MonotonicClock.DeadlineAfter(timeout);
        Enter();
        try
        {
            if (!TryReserveCore(message.Length, deadline, cancellationToken, out _))
            {
                WaitAndReserve(message.Length, deadline, timeout, cancellationToken, out _);
            }

            message.CopyTo(new Span<byte>(ReservedPayload, message.Length));
            CommitCore(message.Length, publish: true);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Enqueues the bytes of an unmanaged value (a message of sizeof(T) bytes), if there is room now.</summary>
    /// <typeparam name="T">An unmanaged type: its bytes are the message (same layout on both sides is the caller's contract).</typeparam>
    /// <param name="value">The value.</param>
    /// <returns>False when the ring is full.</returns>
    public bool TryEnqueue<T>(in T value)
        where T : unmanaged
    {
        T copy = value; // a stack copy: 'in' may refer to movable memory
        return TryEnqueue(new ReadOnlySpan<byte>(&copy, sizeof(T)));
    }

    /// <summary>Enqueues the bytes of an unmanaged value, waiting for room (or failing fast).</summary>
    /// <typeparam name="T">An unmanaged type.</typeparam>
    /// <param name="value">The value.</param>
    /// <param name="timeout">How long to wait for room; null waits as long as it takes.</param>
    /// <param name="cancellationToken">Ends the wait.</param>
    public void Enqueue<T>(in T value, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        where T : unmanaged
    {
        T copy = value; // a stack copy: 'in' may refer to movable memory
        Enqueue(new ReadOnlySpan<byte>(&copy, sizeof(T)), timeout, cancellationToken);
    }

    /// <summary>
    /// Publishes every message committed with <c>publish: false</c> (one index publication and one wake-up check for
    /// all of them). Does nothing when there are none.
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
    /// Ends this producer: publishes what was committed, gives the producer role back (SPSC) and the reference on the
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
        throw new InvalidOperationException("The queue lease has ended (committed or disposed); its span is no longer valid.");

    internal bool IsLeaseActive(int id) => _leased && _leaseId == id;

    internal void CommitLease(int id, int length, bool publish)
    {
        if (!IsLeaseActive(id))
        {
            ThrowLeaseEnded();
        }

        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, _reservedLength);
        try
        {
            CommitCore(length, publish);
        }
        finally
        {
            Exit();
        }
    }

    internal void AbandonLease(int id)
    {
        if (!IsLeaseActive(id))
        {
            return;
        }

        try
        {
            AbandonCore();
        }
        finally
        {
            Exit();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckLength(int length)
    {
        if ((uint)length > (uint)_max)
        {
            throw _ring.TooLong(length, nameof(length));
        }
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

        throw new ObjectDisposedException(nameof(ShmQueueProducer));
    }

    [DoesNotReturn]
    private static void ThrowBusy() =>
        throw new InvalidOperationException("A lease of this queue producer is still out (or another thread is using it): commit or dispose it first. A producer is used by one thread at a time.");

    /// <summary>Runs once, after Dispose and after the operation in flight: publish, role back, reference back.</summary>
    private void Shutdown()
    {
        try
        {
            if (_mpmc)
            {
                if (_pendingNotify)
                {
                    Interlocked.MemoryBarrier();
                    EventCount.Notify(NotEmpty);
                }
            }
            else
            {
                PublishCore();
                _ring.ReleaseRole(QueueLayout.ProducerRoleOffset, _role);
            }
        }
        finally
        {
            _ring.Region.Exit();
        }
    }
}
