namespace ShmKit;

/// <summary>
/// A lock in shared memory is not recoverable: a previous owner died holding it, and the process that acquired it
/// next (and was told so, through <see cref="ShmMutexHolder.IsAbandoned"/>) released it without calling
/// <see cref="ShmMutexHolder.MarkConsistent"/>. The data it guards was never declared consistent, so ShmKit refuses
/// to hand the lock on silently — POSIX's EOWNERDEAD/ENOTRECOVERABLE rule. Nothing was acquired. Repair (or
/// re-initialize) the data, then call <see cref="ShmMutex.ResetNotRecoverable"/>; or remove the segment and create
/// it again.
/// </summary>
public sealed class ShmLockNotRecoverableException : IpcException
{
    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public ShmLockNotRecoverableException(string message)
        : base(message)
    {
        Name = string.Empty;
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public ShmLockNotRecoverableException(string message, Exception innerException)
        : base(message, innerException)
    {
        Name = string.Empty;
    }

    /// <summary>Creates an exception for a named lock in a managed segment.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="key">The segment's key.</param>
    /// <param name="id">The segment's id.</param>
    /// <param name="name">The lock's name in the segment's directory.</param>
    /// <param name="offset">The lock's offset in the segment.</param>
    public ShmLockNotRecoverableException(string message, IpcKey? key, int? id, string name, long offset)
        : base(message, IpcObjectKind.SharedMemory, "lock", key, id, 0)
    {
        Name = name;
        Offset = offset;
    }

    /// <summary>The lock's name in the segment's directory.</summary>
    public string Name { get; }

    /// <summary>The lock's offset in the segment, when known.</summary>
    public long? Offset { get; }
}
