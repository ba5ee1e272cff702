namespace ShmKit;

/// <summary>
/// A structure in shared memory did not become ready within the timeout: nobody has started initializing it (the
/// memory is still all zero), or its initializer is still at work and alive (or in another pid namespace, where its
/// death cannot be seen without a liveness token). Nothing was changed. Wait longer, or check that the creating
/// process runs; a segment that stays all zero was not made by ShmKit.
/// </summary>
/// <remarks>
/// A <see cref="TimeoutException"/>, like <see cref="SemaphoreSetNotInitializedException"/>, because it is the
/// outcome of a wait that ran out: callers that catch timeouts catch it too. Key and id travel as properties.
/// </remarks>
public sealed class ShmStructureNotReadyException : TimeoutException
{
    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public ShmStructureNotReadyException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public ShmStructureNotReadyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for a structure that was not ready in time.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="key">The segment's key, when known.</param>
    /// <param name="id">The segment's id, when known.</param>
    /// <param name="offset">The structure's (or directory entry's) offset in the segment.</param>
    /// <param name="initializerProcessId">The pid of the process initializing it, or 0 if none or unknown.</param>
    public ShmStructureNotReadyException(string message, IpcKey? key, int? id, long offset, int initializerProcessId)
        : base(message)
    {
        Key = key;
        Id = id;
        Offset = offset;
        InitializerProcessId = initializerProcessId;
    }

    /// <summary>The segment's key, when known.</summary>
    public IpcKey? Key { get; }

    /// <summary>The segment's id, when known.</summary>
    public int? Id { get; }

    /// <summary>The offset of the structure or directory entry, when known.</summary>
    public long? Offset { get; }

    /// <summary>The pid of the initializer, or 0 if none or unknown.</summary>
    public int InitializerProcessId { get; }
}
