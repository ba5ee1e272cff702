namespace ShmKit;

/// <summary>
/// A semaphore set with the key exists, but no semop has happened on it (sem_otime is still 0) within the
/// initialization timeout, so it was not initialized the way ShmKit initializes sets. Either another program made it
/// and set its values without a semop (<c>ipcmk -S</c> does): then it is live, and
/// <see cref="SemaphoreSet.OpenById"/> or <see cref="SemaphoreSet.OpenWithoutInitializationWait"/> opens it as it is;
/// or a ShmKit creator died between semget and its first operation: then nobody uses it, and it can be removed
/// (<c>ipcrm -s id</c>) and created again.
/// </summary>
public sealed class SemaphoreSetNotInitializedException : TimeoutException
{
    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public SemaphoreSetNotInitializedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public SemaphoreSetNotInitializedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for a set that was not initialized in time.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="key">The set's key.</param>
    /// <param name="id">The set's id.</param>
    public SemaphoreSetNotInitializedException(string message, IpcKey key, int id)
        : base(message)
    {
        Key = key;
        Id = id;
    }

    /// <summary>The key of the set, when known.</summary>
    public IpcKey? Key { get; }

    /// <summary>The id of the set, when known.</summary>
    public int? Id { get; }
}
