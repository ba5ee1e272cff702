namespace ShmKit;

/// <summary>How a <see cref="ShmQueueProducer"/> waits when the ring is full.</summary>
public sealed class ShmQueueProducerOptions
{
    internal static ShmQueueProducerOptions Default { get; } = new();

    /// <summary>How blocking calls wait for room: spin, then sleep on the queue's futex (default), and the other strategies.</summary>
    public ShmWaitStrategy WaitStrategy { get; init; } = ShmWaitStrategy.SpinThenBlock;

    /// <summary>Wait for room (default) or fail fast with <see cref="ShmQueueFullException"/>.</summary>
    public ShmQueueFullMode FullMode { get; init; } = ShmQueueFullMode.Wait;
}
