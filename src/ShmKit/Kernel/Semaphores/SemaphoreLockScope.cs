namespace ShmKit;

/// <summary>
/// A held semaphore lock: <see cref="Dispose"/> releases it. Returned by <see cref="SemaphoreSet.Lock(int, TimeSpan?, bool, CancellationToken)"/> and
/// <see cref="SharedMemoryRendezvous.Lock"/>, meant for <c>using</c>:
/// <code>using (region.Lock(TimeSpan.FromSeconds(1))) { /* update records */ }</code>
/// </summary>
/// <remarks>
/// A struct, so taking and releasing a lock allocates nothing. Dispose releases once: the <c>using</c> variable
/// forgets the set after releasing, so a second Dispose on it does nothing. Do not copy the scope and dispose
/// both copies (each copy would release). A default instance holds nothing.
/// </remarks>
public struct SemaphoreLockScope : IDisposable
{
    private SemaphoreSet? _set;
    private readonly int _index;
    private readonly bool _undo;

    internal SemaphoreLockScope(SemaphoreSet set, int index, bool undo)
    {
        _set = set;
        _index = index;
        _undo = undo;
    }

    /// <summary>True until the lock is released.</summary>
    public readonly bool IsHeld => _set is not null;

    /// <summary>
    /// Releases the lock (adds 1 to the semaphore, with the same undo setting it was taken with). If the set was
    /// removed meanwhile there is no lock left to release, and Dispose does nothing.
    /// </summary>
    public void Dispose()
    {
        SemaphoreSet? set = _set;
        _set = null;
        if (set is null)
        {
            return;
        }

        try
        {
            set.Release(_index, 1, _undo);
        }
        catch (IpcObjectRemovedException)
        {
            // Removed while held (for example the server shut down): nothing to give back.
        }
    }
}
