using BenchmarkDotNet.Attributes;

namespace ShmKit.Benchmarks;

/// <summary>Uncontended SysV message queue: one msgsnd + one msgrcv of 64 B in one thread. Allocates nothing.</summary>
[MemoryDiagnoser]
public class MessageQueueBenchmarks
{
    private readonly byte[] _payload = new byte[64];
    private readonly byte[] _buffer = new byte[64];
    private MessageQueue? _queue;

    [GlobalSetup]
    public void Setup() => _queue = MessageQueue.CreatePrivate();

    [GlobalCleanup]
    public void Cleanup() => _queue?.Remove();

    [Benchmark]
    public int SendReceive64()
    {
        _queue!.Send(1, _payload);
        return _queue.Receive(_buffer, out _);
    }
}
