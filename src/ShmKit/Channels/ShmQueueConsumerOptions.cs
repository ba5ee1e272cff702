namespace ShmKit;

/// <summary>How a <see cref="ShmQueueConsumer"/> waits when the ring is empty.</summary>
public sealed class ShmQueueConsumerOptions
{
    internal static ShmQueueConsumerOptions Default { get; } = new();

    /// <summary>How blocking calls wait for a message: spin, then sleep on the queue's futex (default), and the other strategies.</summary>
    public ShmWaitStrategy WaitStrategy { get; init; } = ShmWaitStrategy.SpinThenBlock;
}
