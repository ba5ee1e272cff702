using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>
/// The lifetime protocol of a queue handle (producer or consumer): the handle takes one reference on the mapping
/// when it is created and gives it back in its shutdown, which runs exactly once, after <c>Dispose</c> and after the
/// operation in flight (a lease that is out, a blocking wait) has ended. So the ring stays mapped under every lease
/// and every wait, the hot path pays no reference counting per message, and Dispose from another thread is safe.
/// </summary>
/// <remarks>
/// <para><b>Fields</b> (process memory, not shared memory). <c>_busy</c>: written by the thread that uses the handle
/// (1 from the start of an operation until it ends — for a reservation or a receive, until the lease is committed,
/// released or disposed), read by Dispose. <c>_disposed</c>: set once by Dispose (Interlocked.Exchange), read by the
/// using thread at the start and end of each operation. <c>_shutdown</c>: Interlocked.Exchange decides who runs the
/// shutdown.</para>
/// <para><b>Ordering</b>: an asymmetric Dekker pair. The using thread does store(_busy) then load(_disposed) with
/// plain volatile accesses only (no fence on the hot path); Dispose does store(_disposed), then
/// <see cref="Interlocked.MemoryBarrierProcessWide"/> (membarrier: every thread of the process executes a full
/// barrier), then load(_busy). So at least one side sees the other's store: either Dispose sees the operation and
/// leaves the shutdown to its end, or the operation sees Dispose and backs out (at its start) or shuts down (at its
/// end). Both may see each other; the Exchange on <c>_shutdown</c> lets exactly one of them run it.</para>
/// <para>A handle is used by one thread at a time (like a single-reader channel); <see cref="Enter"/> refuses a
/// second operation while a lease is out.</para>
/// </remarks>
internal struct QueueHandleGate
{
    private int _busy;
    private int _disposed;
    private int _shutdown;

    internal readonly bool IsDisposed => Volatile.Read(ref Unsafe.AsRef(in _disposed)) != 0;

    internal readonly bool IsBusy => _busy != 0;

    /// <summary>Starts an operation. False when the handle is disposed (the caller runs the shutdown if <paramref name="shutdown"/>, then throws).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool Enter(out bool shutdown)
    {
        Volatile.Write(ref _busy, 1);
        if (Volatile.Read(ref _disposed) == 0)
        {
            shutdown = false;
            return true;
        }

        Volatile.Write(ref _busy, 0);
        shutdown = ClaimShutdown();
        return false;
    }

    /// <summary>Ends an operation. True when the caller must now run the shutdown (Dispose came meanwhile).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool Exit()
    {
        Volatile.Write(ref _busy, 0);
        return Volatile.Read(ref _disposed) != 0 && ClaimShutdown();
    }

    /// <summary>First half of Dispose: false when it was disposed already.</summary>
    internal bool BeginDispose() => Interlocked.Exchange(ref _disposed, 1) == 0;

    /// <summary>Second half of Dispose: true when the caller must run the shutdown now (no operation in flight).</summary>
    internal bool FinishDispose()
    {
        Interlocked.MemoryBarrierProcessWide();
        return Volatile.Read(ref _busy) == 0 && ClaimShutdown();
    }

    private bool ClaimShutdown() => Interlocked.Exchange(ref _shutdown, 1) == 0;
}
