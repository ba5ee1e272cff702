using System.Globalization;

namespace ShmKit;

/// <summary>
/// An event in shared memory, like <see cref="EventWaitHandle"/> across processes: any process attached to the same
/// <see cref="ManagedSegment"/> can set, reset and wait on it, found or created by name. An auto-reset event releases
/// one waiter per <see cref="Set"/> and resets itself; a manual-reset event releases every waiter until
/// <see cref="Reset"/>. Set calls FUTEX_WAKE only when a waiter sleeps; a waiter that finds it set takes it with one
/// CAS: two auto-reset events make a cross-process hand-off that costs no system call while the other side answers
/// within the spin phase.
/// </summary>
/// <remarks>
/// <para><b>Semantics.</b> Setting a set event does nothing more (signals do not accumulate, as with
/// <see cref="AutoResetEvent"/>). A waiter of an auto-reset event consumes the signal with CAS 1 → 0, so exactly one
/// waiter passes per Set; a Set with several waiters wakes one of them. A manual-reset Set wakes all sleepers.</para>
/// <para><b>Waiting</b> follows <see cref="WaitStrategy"/> (default spin, then futex). Timeouts are absolute
/// deadlines in the kernel; cancellation wakes the waiter at once; a blocked waiter makes no wake-ups.
/// <see cref="WaitAsync"/> blocks no thread-pool thread.</para>
/// <para><b>Lifetime.</b> The handle keeps the mapping until it is disposed and no operation through it is in
/// progress: disposing the handle or the segment never unmaps memory an operation or a sleeping waiter uses.</para>
/// <para>Layout (docs/ARCHITECTURE.md, "Synchronization primitives"): a 64-byte StructureHeader of kind Event whose
/// flags field is the reset mode (0 auto, 1 manual), then the state word and the sleeper count.</para>
/// </remarks>
public sealed class ShmEvent : IDisposable
{
    // Body layout (offsets from the body, which follows the 64-byte header):
    //  0  state: 0 not set, 1 set. FUTEX WORD. Writers: Set (Interlocked.Exchange 1: a full fence before it reads
    //     sleepers), Reset (Interlocked.Exchange 0), an auto-reset waiter (CAS 1 → 0). Readers: waiters (Volatile.Read,
    //     then the kernel's compare of 0 in FUTEX_WAIT), inspect. Any other value was written by another program and
    //     counts as set.
    //  4  sleepers: see CountWait (Interlocked by waiters around each sleep; read by Set after its Exchange).
    private const int StateOffset = 0;
    private const int SleepersOffset = 4;

    private readonly ShmStructureBinding _binding;
    private readonly unsafe int* _state;
    private readonly unsafe int* _sleepers;
    private readonly bool _autoReset;

    private unsafe ShmEvent(ShmStructureBinding binding)
    {
        _binding = binding;
        _state = binding.Word(StateOffset);
        _sleepers = binding.Word(SleepersOffset);
        int flags = binding.Header.Flags;
        if (flags is not ((int)EventResetMode.AutoReset or (int)EventResetMode.ManualReset))
        {
            throw ShmErrors.Layout(binding.Segment.Site, binding.Offset + StructureHeader.FlagsOffset, "flags (reset mode)",
                "0 (auto reset) or 1 (manual reset)", flags.ToString(CultureInfo.InvariantCulture));
        }

        ResetMode = (EventResetMode)flags;
        _autoReset = ResetMode == EventResetMode.AutoReset;
    }

    /// <summary>The name in the segment's directory.</summary>
    public string Name => _binding.Name;

    /// <summary>The managed segment that holds it.</summary>
    public ManagedSegment Segment => _binding.Segment;

    /// <summary>The offset of its header in the segment.</summary>
    public long Offset => _binding.Offset;

    /// <summary>True when this call created it.</summary>
    public bool WasCreated => _binding.WasCreated;

    /// <summary>Auto or manual reset (fixed when it was created).</summary>
    public EventResetMode ResetMode { get; }

    /// <summary>How waits wait while the event is not set (default SpinThenBlock).</summary>
    public ShmWaitStrategy WaitStrategy { get; set; }

    /// <summary>Whether it is set now (a snapshot; reading it consumes nothing).</summary>
    public unsafe bool IsSet
    {
        get
        {
            _binding.Enter();
            try
            {
                return Volatile.Read(ref *_state) != 0;
            }
            finally
            {
                _binding.Exit();
            }
        }
    }

    /// <summary>
    /// Finds the event called <paramref name="name"/> in <paramref name="segment"/>, or creates it. An existing one must
    /// have the same reset mode.
    /// </summary>
    /// <param name="segment">The managed segment.</param>
    /// <param name="name">1..32 bytes of UTF-8.</param>
    /// <param name="mode">Auto or manual reset.</param>
    /// <param name="initialState">Set when created; ignored when it exists.</param>
    /// <param name="timeout">How long to wait while another process constructs it; default 5 s.</param>
    /// <param name="cancellationToken">Cancels that wait.</param>
    /// <returns>A handle; dispose it when done.</returns>
    /// <exception cref="ShmNameConflictException">The name belongs to another kind, or to an event with the other reset mode.</exception>
    public static ShmEvent OpenOrCreate(ManagedSegment segment, string name, EventResetMode mode, bool initialState = false, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        if (mode is not (EventResetMode.AutoReset or EventResetMode.ManualReset))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "AutoReset or ManualReset.");
        }

        var shmEvent = new ShmEvent(ShmStructureBinding.OpenOrCreate(segment, name, ShmStructureKind.Event, (int)mode, 0, initialState ? 1 : 0, timeout, cancellationToken));
        if (shmEvent.ResetMode != mode)
        {
            shmEvent.Dispose();
            throw SyncErrors.ParameterConflict(shmEvent._binding, "reset mode", shmEvent.ResetMode.ToString(), mode.ToString());
        }

        return shmEvent;
    }

    /// <summary>Opens the existing event called <paramref name="name"/> in <paramref name="segment"/>, with its own reset mode.</summary>
    /// <param name="segment">The managed segment.</param>
    /// <param name="name">1..32 bytes of UTF-8.</param>
    /// <param name="timeout">How long to wait while another process constructs it; default 5 s.</param>
    /// <param name="cancellationToken">Cancels that wait.</param>
    /// <returns>A handle.</returns>
    /// <exception cref="IpcObjectNotFoundException">The segment holds no event by that name.</exception>
    public static ShmEvent Open(ManagedSegment segment, string name, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        new(ShmStructureBinding.Open(segment, name, ShmStructureKind.Event, timeout, cancellationToken));

    /// <summary>
    /// Sets the event: releases one waiter (auto reset; the event resets as it passes) or every waiter until
    /// <see cref="Reset"/> (manual reset). Calls FUTEX_WAKE only when a waiter sleeps.
    /// </summary>
    public unsafe void Set()
    {
        _binding.Enter();
        try
        {
            Interlocked.Exchange(ref *_state, 1); // full fence: the store is visible before sleepers is read
            if (Volatile.Read(ref *_sleepers) > 0)
            {
                Futex.Wake(_state, _autoReset ? 1 : int.MaxValue);
            }
        }
        finally
        {
            _binding.Exit();
        }
    }

    /// <summary>Resets the event (not set). Wakes nobody.</summary>
    public unsafe void Reset()
    {
        _binding.Enter();
        try
        {
            Interlocked.Exchange(ref *_state, 0);
        }
        finally
        {
            _binding.Exit();
        }
    }

    /// <summary>
    /// Waits until the event is set, as long as <paramref name="timeout"/> allows; an auto-reset event is reset by the
    /// waiter it releases.
    /// </summary>
    /// <param name="timeout">How long to wait; null or <see cref="Timeout.InfiniteTimeSpan"/> waits forever; zero does not wait.</param>
    /// <param name="cancellationToken">Cancels the wait (the waiter wakes at once).</param>
    /// <returns>True when released; false at the timeout.</returns>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public unsafe bool Wait(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        long deadline = MonotonicClock.DeadlineAfter(timeout);
        _binding.Enter();
        try
        {
            var op = new CountWait(_state, _sleepers, _autoReset);
            return ShmWaitCore.Wait(ref op, WaitStrategy, deadline, cancellationToken);
        }
        finally
        {
            _binding.Exit();
        }
    }

    /// <summary>
    /// Waits asynchronously: completes synchronously, without allocating, when the event is set; otherwise spins briefly
    /// and then waits on ShmKit's shared futex waiter thread, blocking no thread-pool thread.
    /// </summary>
    /// <param name="timeout">How long to wait; null or <see cref="Timeout.InfiniteTimeSpan"/> waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>True when released; false at the timeout.</returns>
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
            var op = new CountWait(_state, _sleepers, _autoReset);
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

    /// <summary>A snapshot for diagnostics (<c>shmkit inspect</c>).</summary>
    /// <returns>Whether it is set, its reset mode and the sleeping waiters.</returns>
    public unsafe ShmEventState GetState()
    {
        _binding.Enter();
        try
        {
            return new ShmEventState(Volatile.Read(ref *_state) != 0, ResetMode, Math.Max(0, Volatile.Read(ref *_sleepers)));
        }
        finally
        {
            _binding.Exit();
        }
    }

    /// <summary>Closes this handle (later calls throw <see cref="ObjectDisposedException"/>); the event stays in the segment.</summary>
    public void Dispose() => _binding.Dispose();

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"ShmEvent '{Name}' ({ResetMode}) at offset {Offset} of the {_binding.Segment.Site.Describe()}");
}
