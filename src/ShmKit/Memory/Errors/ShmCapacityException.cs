namespace ShmKit;

/// <summary>
/// A <see cref="ManagedSegment"/> is full: its directory has no free entry for another name, its heap has no room for
/// the bytes asked, or its participant table has no free slot for another process (dead participants' slots are
/// reclaimed first, so every slot belongs to a live process). Nothing was changed. The numbers say how full it is;
/// create the segment with a larger size or capacity (<see cref="ManagedSegmentOptions"/>).
/// </summary>
public sealed class ShmCapacityException : IpcException
{
    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public ShmCapacityException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public ShmCapacityException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception that names the full resource and its numbers.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="key">The segment's key.</param>
    /// <param name="id">The segment's id.</param>
    /// <param name="resource">What is full.</param>
    /// <param name="capacity">Its capacity (entries, bytes or slots).</param>
    /// <param name="inUse">How much of it is in use.</param>
    /// <param name="requested">How much was asked for.</param>
    public ShmCapacityException(string message, IpcKey? key, int? id, ShmCapacityResource resource, long capacity, long inUse, long requested)
        : base(message, IpcObjectKind.SharedMemory, "allocate", key, id, 0)
    {
        Resource = resource;
        Capacity = capacity;
        InUse = inUse;
        Requested = requested;
    }

    /// <summary>What is full.</summary>
    public ShmCapacityResource Resource { get; }

    /// <summary>The capacity: directory entries, heap bytes or participant slots.</summary>
    public long Capacity { get; }

    /// <summary>How much is in use.</summary>
    public long InUse { get; }

    /// <summary>How much was asked for (1 entry or slot; bytes for the heap).</summary>
    public long Requested { get; }
}
