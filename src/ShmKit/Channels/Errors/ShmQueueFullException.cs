namespace ShmKit;

/// <summary>
/// The queue has no room for the message and the producer was asked to fail fast
/// (<see cref="ShmQueueFullMode.Fail"/>) rather than wait. Nothing was written; try again later, or wait
/// (<see cref="ShmQueueFullMode.Wait"/>, the default).
/// </summary>
public sealed class ShmQueueFullException : IpcException
{
    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public ShmQueueFullException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public ShmQueueFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception that says how much was asked and how much is free.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="key">The segment's key, when known.</param>
    /// <param name="id">The segment's id, when known.</param>
    /// <param name="requestedBytes">Ring bytes the record needs (header, payload, alignment, padding at the wrap).</param>
    /// <param name="freeBytes">Ring bytes free when it was checked.</param>
    public ShmQueueFullException(string message, IpcKey? key, int? id, long requestedBytes, long freeBytes)
        : base(message, IpcObjectKind.SharedMemory, "enqueue", key, id, 0)
    {
        RequestedBytes = requestedBytes;
        FreeBytes = freeBytes;
    }

    /// <summary>Ring bytes the record needs.</summary>
    public long RequestedBytes { get; }

    /// <summary>Ring bytes free when it was checked.</summary>
    public long FreeBytes { get; }
}
