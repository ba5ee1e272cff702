namespace ShmKit;

/// <summary>
/// The queue exists with another mode or capacity than the caller asked for (a single-producer queue opened as a
/// multi-producer one, or the other way round). Nothing was created or changed. Open it with its own mode
/// (<see cref="ShmQueue.Open(ManagedSegment, string, ShmQueueMode?, TimeSpan?, CancellationToken)"/> without an
/// expected mode tells it), or use another name.
/// </summary>
public sealed class ShmQueueModeMismatchException : IpcException
{
    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public ShmQueueModeMismatchException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public ShmQueueModeMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception that names both modes and capacities.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="key">The segment's key, when known.</param>
    /// <param name="id">The segment's id, when known.</param>
    /// <param name="expectedMode">The mode asked for.</param>
    /// <param name="foundMode">The queue's mode.</param>
    /// <param name="expectedCapacity">The capacity asked for (0 when any would do).</param>
    /// <param name="foundCapacity">The queue's capacity.</param>
    public ShmQueueModeMismatchException(string message, IpcKey? key, int? id, ShmQueueMode expectedMode, ShmQueueMode foundMode, long expectedCapacity, long foundCapacity)
        : base(message, IpcObjectKind.SharedMemory, "open", key, id, 0)
    {
        ExpectedMode = expectedMode;
        FoundMode = foundMode;
        ExpectedCapacity = expectedCapacity;
        FoundCapacity = foundCapacity;
    }

    /// <summary>The mode asked for.</summary>
    public ShmQueueMode ExpectedMode { get; }

    /// <summary>The queue's mode.</summary>
    public ShmQueueMode FoundMode { get; }

    /// <summary>The capacity asked for (0 when any would do).</summary>
    public long ExpectedCapacity { get; }

    /// <summary>The queue's capacity in bytes.</summary>
    public long FoundCapacity { get; }
}
