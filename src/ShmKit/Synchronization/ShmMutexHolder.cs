using System.Runtime.CompilerServices;

namespace ShmKit;

/// <summary>
/// Proof of holding a <see cref="ShmMutex"/>, from <see cref="ShmMutex.Lock"/>, <see cref="ShmMutex.TryLock"/> or
/// <see cref="ShmMutex.LockAsync"/>. Dispose it to unlock — on any thread, also after an <c>await</c>. Disposing it
/// again (or disposing a copy) does nothing; <c>default</c> holds nothing.
/// </summary>
/// <remarks>
/// <para>While undisposed it keeps a reference on the segment's mapping, so the lock word cannot be unmapped under it.
/// Unlocking checks that the lock word still names this process as its owner
/// (<see cref="SynchronizationLockException"/> otherwise: another process judged this one dead and took the lock).</para>
/// <para><see cref="IsAbandoned"/>: the previous holder died holding the lock, so the data it guards may be
/// inconsistent. Repair or check it, call <see cref="MarkConsistent"/>, then dispose. Disposing without
/// MarkConsistent makes the lock not recoverable (<see cref="ShmLockNotRecoverableException"/> for every later
/// locker until <see cref="ShmMutex.ResetNotRecoverable"/>).</para>
/// </remarks>
public readonly struct ShmMutexHolder : IDisposable
{
    private readonly ShmMutex? _mutex;
    private readonly long _lease;

    internal ShmMutexHolder(ShmMutex mutex, long lease, bool abandoned)
    {
        _mutex = mutex;
        _lease = lease;
        IsAbandoned = abandoned;
    }

    /// <summary>The mutex held (null for <c>default</c>).</summary>
    public ShmMutex? Mutex => _mutex;

    /// <summary>
    /// True when the previous holder died holding the lock: the data it guards may be half-updated. Stays true after
    /// <see cref="MarkConsistent"/> (it describes how the lock was acquired).
    /// </summary>
    public bool IsAbandoned { get; }

    /// <summary>True until this holder (or a copy of it) is disposed.</summary>
    public bool IsHeld => _mutex is not null && _mutex.IsHeldBy(_lease);

    /// <summary>
    /// Declares the guarded data consistent again after an abandonment (<see cref="IsAbandoned"/>), so that disposing
    /// this holder leaves the lock usable. Harmless when the lock was not abandoned.
    /// </summary>
    /// <exception cref="SynchronizationLockException">This holder was disposed, or the lock was taken from this process.</exception>
    public void MarkConsistent()
    {
        if (_mutex is null)
        {
            throw new SynchronizationLockException("A default ShmMutexHolder holds no lock.");
        }

        _mutex.MarkConsistent(_lease);
    }

    /// <summary>Unlocks (once; later calls and copies do nothing). Any thread.</summary>
    /// <exception cref="SynchronizationLockException">The lock word no longer names this process: it was taken over.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Dispose() => _mutex?.Release(_lease);
}
