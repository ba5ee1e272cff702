namespace ShmKit;

/// <summary>What a producer's blocking calls (<c>Reserve</c>, <c>Enqueue</c>, <c>EnqueueAsync</c>) do when the ring has no room.</summary>
public enum ShmQueueFullMode
{
    /// <summary>Wait for room (with the producer's <see cref="ShmWaitStrategy"/>), up to the call's timeout. The default.</summary>
    Wait = 0,

    /// <summary>Throw <see cref="ShmQueueFullException"/> at once; nothing is written.</summary>
    Fail = 1,
}
