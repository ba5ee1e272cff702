using System.Globalization;
using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>
/// A counting semaphore in shared memory, with a maximum, that any process attached to the same
/// <see cref="ManagedSegment"/> can wait on and release, found or created by name. Uncontended, a wait is one CAS on a
/// word in the segment and a release is one CAS (plus a FUTEX_WAKE only when a waiter sleeps): no system call.
/// </summary>
/// <remarks>
/// <para><b>No owner.</b> Like <see cref="SemaphoreSlim"/>, units are not tied to the process that took them: any
/// process may release. So <b>the units a process holds when it dies are not given back</b> — nothing can tell which
/// units were "its" — and the count stays lower by that many. Where holders can die and their units must come back,
/// use a <see cref="ShmMutex"/> (robust) per resource, or a System V semaphore with SEM_UNDO
/// (<see cref="SemaphoreSet"/>, one system call per operation), or re-create the semaphore.</para>
/// <para><b>Waiting</b> follows <see cref="WaitStrategy"/>: spin briefly, then sleep on the count word's futex with
/// an absolute deadline; cancellation wakes the waiter at once; a blocked waiter makes no wake-ups.
/// <see cref="WaitAsync"/> blocks no thread-pool thread.</para>
/// <para><b>Lifetime.</b> The handle keeps the mapping until it is disposed and no operation through it is in
/// progress: disposing the handle or the segment never unmaps memory an operation or a sleeping waiter uses.</para>
/// <para>Layout (docs/ARCHITECTURE.md, "Synchronization primitives"): a 64-byte StructureHeader of kind Semaphore
/// whose kindParameter is the maximum count, then the count word and the sleeper count.</para>
/// </remarks>
public sealed class ShmSemaphore : IDisposable
{
    // Body layout (offsets from the body, which follows the 64-byte header):
    //  0  count: units available, 0..maximum. FUTEX WORD. Writers: waiters (CAS c → c−1 when c > 0), Release (CAS
    //     c → c+n after checking c+n ≤ maximum). Readers: waiters, Release, inspect (Volatile.Read). A value outside
    //     0..maximum was written by another program: Release reports it, waits treat ≤ 0 as "no unit".
    //  4  sleepers: see CountWait (Interlocked by waiters around each sleep; read by Release after its CAS).
    private const int CountOffset = 0;
    private const int SleepersOffset = 4;

    private readonly ShmStructureBinding _binding;
    private readonly unsafe int* _count;
    private readonly unsafe int* _sleepers;

    private unsafe ShmSemaphore(ShmStructureBinding binding)
    {
        _binding = binding;
        _count = binding.Word(CountOffset);
        _sleepers = binding.Word(SleepersOffset);
        long maximum = binding.Header.KindParameter;
        if (maximum is < 1 or > int.MaxValue)
        {
            throw ShmErrors.Layout(binding.Segment.Site, binding.Offset + StructureHeader.KindParameterOffset, "kindParameter (maximum count)",
                "1..2147483647", maximum.ToString(CultureInfo.InvariantCulture));
        }

        MaximumCount = (int)maximum;
    }

    /// <summary>The name in the segment's directory.</summary>
    public string Name => _binding.Name;

    /// <summary>The managed segment that holds it.</summary>
    public ManagedSegment Segment => _binding.Segment;

    /// <summary>The offset of its header in the segment.</summary>
    public long Offset => _binding.Offset;

    /// <summary>True when this call created it.</summary>
    public bool WasCreated => _binding.WasCreated;

    /// <summary>The largest count it may reach (fixed when it was created).</summary>
    public int MaximumCount { get; }

    /// <summary>The units available now (a snapshot).</summary>
    public unsafe int CurrentCount
    {
        get
        {
            _binding.Enter();
            try
            {
                return Volatile.Read(ref *_count);
            }
            finally
            {
                _binding.Exit();
            }
        }
    }

    /// <summary>How waits wait when no unit is available (default SpinThenBlock).</summary>
    public ShmWaitStrategy WaitStrategy { get; set; }

    /// <summary>
    /// Finds the semaphore called <paramref name="name"/> in <paramref name="segment"/>, or creates it with
    /// <paramref name="initialCount"/> units. An existing one must have the same maximum.
    /// </summary>
    /// <param name="segment">The managed segment.</param>
    /// <param name="name">1..32 bytes of UTF-8.</param>
    /// <param name="initialCount">Units available when created (0..maximum); ignored when it exists.</param>
    /// <param name="maximumCount">The largest count (≥ 1).</param>
    /// <param name="timeout">How long to wait while another process constructs it; default 5 s.</param>
    /// <param name="cancellationToken">Cancels that wait.</param>
    /// <returns>A handle; dispose it when done.</returns>
    /// <exception cref="ShmNameConflictException">The name belongs to another kind, or to a semaphore with another maximum.</exception>
    public static ShmSemaphore OpenOrCreate(ManagedSegment segment, string name, int initialCount, int maximumCount, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maximumCount, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(initialCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(initialCount, maximumCount);
        var semaphore = new ShmSemaphore(ShmStructureBinding.OpenOrCreate(segment, name, ShmStructureKind.Semaphore, 0, maximumCount, initialCount, timeout, cancellationToken));
        if (semaphore.MaximumCount != maximumCount)
        {
            semaphore.Dispose();
            throw SyncErrors.ParameterConflict(semaphore._binding, "maximum count",
                semaphore.MaximumCount.ToString(CultureInfo.InvariantCulture), maximumCount.ToString(CultureInfo.InvariantCulture));
        }

        return semaphore;
    }

    /// <summary>Opens the existing semaphore called <paramref name="name"/> in <paramref name="segment"/>.</summary>
    /// <param name="segment">The managed segment.</param>
    /// <param name="name">1..32 bytes of UTF-8.</param>
    /// <param name="timeout">How long to wait while another process constructs it; default 5 s.</param>
    /// <param name="cancellationToken">Cancels that wait.</param>
    /// <returns>A handle.</returns>
    /// <exception cref="IpcObjectNotFoundException">The segment holds no semaphore by that name.</exception>
    public static ShmSemaphore Open(ManagedSegment segment, string name, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        new(ShmStructureBinding.Open(segment, name, ShmStructureKind.Semaphore, timeout, cancellationToken));

    /// <summary>Takes one unit if one is available now, without waiting.</summary>
    /// <returns>True when a unit was taken.</returns>
    public unsafe bool TryWait()
    {
        _binding.Enter();
        try
        {
            return new CountWait(_count, _sleepers, consume: true).TryComplete();
        }
        finally
        {
            _binding.Exit();
        }
    }

    /// <summary>Takes one unit, waiting as long as <paramref name="timeout"/> allows.</summary>
    /// <param name="timeout">How long to wait; null or <see cref="Timeout.InfiniteTimeSpan"/> waits forever; zero does not wait.</param>
    /// <param name="cancellationToken">Cancels the wait (the waiter wakes at once).</param>
    /// <returns>True when a unit was taken; false at the timeout.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public unsafe bool Wait(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        long deadline = MonotonicClock.DeadlineAfter(timeout);
        _binding.Enter();
        try
        {
            var op = new CountWait(_count, _sleepers, consume: true);
            return ShmWaitCore.Wait(ref op, WaitStrategy, deadline, cancellationToken);
        }
        finally
        {
            _binding.Exit();
        }
    }

    /// <summary>
    /// Takes one unit asynchronously: completes synchronously, without allocating, when a unit is available; otherwise
    /// spins briefly and then waits on ShmKit's shared futex waiter thread, blocking no thread-pool thread.
    /// </summary>
    /// <param name="timeout">How long to wait; null or <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>True when a unit was taken; false at the timeout.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public unsafe ValueTask<bool> WaitAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        long deadline = MonotonicClock.DeadlineAfter(timeout);
        _binding.Enter();
        bool transferred = false;
        try
        {
            var op = new CountWait(_count, _sleepers, consume: true);
            if (ShmWaitCore.TrySpin(ref op, WaitStrategy, deadline))
            {
                return new ValueTask<bool>(true);
            }

            ValueTask<bool> pending = ShmWaitCore.WaitAndExitAsync(_binding, op, deadline, cancellationToken);
            transferred = true;
            return pending;
        }
        finally
        {
            if (!transferred)
            {
                _binding.Exit();
            }
        }
    }

    /// <summary>
    /// Returns <paramref name="releaseCount"/> units and wakes as many sleeping waiters (only when some sleep).
    /// </summary>
    /// <param name="releaseCount">Units to return (≥ 1).</param>
    /// <returns>The count before the release.</returns>
    /// <exception cref="SemaphoreFullException">The count would exceed <see cref="MaximumCount"/>; nothing was released.</exception>
    /// <exception cref="ShmLayoutException">The count word holds a value outside 0..maximum (another program wrote it).</exception>
    public unsafe int Release(int releaseCount = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(releaseCount, 1);
        _binding.Enter();
        try
        {
            while (true)
            {
                int c = Volatile.Read(ref *_count);
                if (c < 0 || c > MaximumCount)
                {
                    throw SyncErrors.BadWord(_binding, CountOffset, "count", string.Create(CultureInfo.InvariantCulture, $"0..{MaximumCount}"), c);
                }

                if ((long)c + releaseCount > MaximumCount)
                {
                    throw SyncErrors.SemaphoreFull(_binding, c, releaseCount, MaximumCount);
                }

                if (Interlocked.CompareExchange(ref *_count, c + releaseCount, c) == c)
                {
                    WakeSleepers(releaseCount);
                    return c;
                }
            }
        }
        finally
        {
            _binding.Exit();
        }
    }

    /// <summary>A snapshot for diagnostics (<c>shmkit inspect</c>).</summary>
    /// <returns>The count, the maximum and the sleeping waiters.</returns>
    public unsafe ShmSemaphoreState GetState()
    {
        _binding.Enter();
        try
        {
            return new ShmSemaphoreState(Volatile.Read(ref *_count), MaximumCount, Math.Max(0, Volatile.Read(ref *_sleepers)));
        }
        finally
        {
            _binding.Exit();
        }
    }

    /// <summary>Closes this handle (later calls throw <see cref="ObjectDisposedException"/>); the semaphore stays in the segment.</summary>
    public void Dispose() => _binding.Dispose();

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"ShmSemaphore '{Name}' (maximum {MaximumCount}) at offset {Offset} of the {_binding.Segment.Site.Describe()}");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe void WakeSleepers(int releaseCount)
    {
        if (Volatile.Read(ref *_sleepers) > 0)
        {
            Futex.Wake(_count, releaseCount);
        }
    }
}
