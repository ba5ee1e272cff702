namespace ShmKit;

/// <summary>
/// A structure in shared memory is poisoned: the process that was initializing it died before it was ready (or its
/// initialization failed), so its contents cannot be trusted. Nothing in it is used. A managed segment in this state
/// is re-initialized by <see cref="ManagedSegment.OpenOrCreate"/>; otherwise remove it and create it again.
/// </summary>
public sealed class ShmStructurePoisonedException : IpcException
{
    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public ShmStructurePoisonedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public ShmStructurePoisonedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for a poisoned structure.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="key">The segment's key, when known.</param>
    /// <param name="id">The segment's id, when known.</param>
    /// <param name="offset">The structure's offset in the segment.</param>
    /// <param name="creatorProcessId">The pid of the initializer that died (as it saw itself), or 0 if unknown.</param>
    public ShmStructurePoisonedException(string message, IpcKey? key, int? id, long offset, int creatorProcessId)
        : base(message, IpcObjectKind.SharedMemory, "open", key, id, 0)
    {
        Offset = offset;
        CreatorProcessId = creatorProcessId;
    }

    /// <summary>The structure's offset in the segment, when known.</summary>
    public long? Offset { get; }

    /// <summary>The pid of the initializer that died, or 0 if unknown.</summary>
    public int CreatorProcessId { get; }
}
