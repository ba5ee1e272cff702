using BenchmarkDotNet.Attributes;

namespace ShmKit.Benchmarks;

/// <summary>
/// In-process enqueue + dequeue of one small message through a <see cref="ShmQueue"/> (the figure other .NET
/// shared-memory queues publish: about 120–210 ns per pair; the target here is under 50 ns). One thread does both
/// halves, so this measures the library's per-message work (checks, index publication with a full fence, the
/// eventcount's waiter check, counters), not the cache-line transfer between cores that the cross-process bench
/// shows. Every variant allocates nothing.
/// </summary>
[MemoryDiagnoser]
public class QueueBenchmarks
{
    private const int MessageSize = 64;
    private const int Batch = 32;

    private ShmQueue? _spsc;
    private ShmQueue? _mpmc;
    private ShmQueueProducer? _spscProducer;
    private ShmQueueConsumer? _spscConsumer;
    private ShmQueueProducer? _mpmcProducer;
    private ShmQueueConsumer? _mpmcConsumer;
    private readonly byte[] _message = new byte[MessageSize];
    private readonly byte[] _received = new byte[MessageSize];

    [GlobalSetup]
    public void Setup()
    {
        _spsc = ShmQueue.Create(IpcKey.Private, new ShmQueueOptions { Capacity = 256 * 1024 });
        _spsc.Segment.Remove(); // gone when the last process detaches
        _spscProducer = _spsc.CreateProducer();
        _spscConsumer = _spsc.CreateConsumer();
        _mpmc = ShmQueue.Create(IpcKey.Private, new ShmQueueOptions { Capacity = 256 * 1024, Mode = ShmQueueMode.MultiProducerMultiConsumer });
        _mpmc.Segment.Remove();
        _mpmcProducer = _mpmc.CreateProducer();
        _mpmcConsumer = _mpmc.CreateConsumer();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _spsc?.Dispose();
        _mpmc?.Dispose();
    }

    /// <summary>SPSC, copying: TryEnqueue(span) + TryReceive(span).</summary>
    [Benchmark(Baseline = true)]
    public int SpscEnqueueDequeue()
    {
        _spscProducer!.TryEnqueue(_message);
        _spscConsumer!.TryReceive(_received, out int length);
        return length;
    }

    /// <summary>SPSC, zero-copy: reserve, write 64 bytes in place, commit; receive in place, read, release.</summary>
    [Benchmark]
    public int SpscZeroCopy()
    {
        _spscProducer!.TryReserve(MessageSize, out ShmQueueWriteLease write);
        _message.CopyTo(write.Span);
        write.Commit();
        _spscConsumer!.TryReceive(out ShmQueueReadLease read);
        int first = read.Span[0];
        read.Dispose();
        return first;
    }

    /// <summary>SPSC, 32 messages per index publication on each side (per-message cost: divide by 32).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public int SpscBatched()
    {
        int sum = 0;
        for (int i = 0; i < Batch; i++)
        {
            _spscProducer!.TryReserve(MessageSize, out ShmQueueWriteLease write);
            _message.CopyTo(write.Span);
            write.Commit(MessageSize, publish: i == Batch - 1);
        }

        for (int i = 0; i < Batch; i++)
        {
            _spscConsumer!.TryReceive(out ShmQueueReadLease read);
            sum += read.Length;
            read.Release(publish: i == Batch - 1);
        }

        return sum;
    }

    /// <summary>SPSC, async copying receive of a message that is there (the synchronous completion of ReceiveAsync).</summary>
    [Benchmark]
    public async ValueTask<int> SpscEnqueueReceiveAsync()
    {
        await _spscProducer!.EnqueueAsync(_message).ConfigureAwait(false);
        return await _spscConsumer!.ReceiveAsync(_received).ConfigureAwait(false);
    }

    /// <summary>MPMC, copying: producer latch, reserve, commit CAS; consumer latch, claim CAS, release CAS, head CAS.</summary>
    [Benchmark]
    public int MpmcEnqueueDequeue()
    {
        _mpmcProducer!.TryEnqueue(_message);
        _mpmcConsumer!.TryReceive(_received, out int length);
        return length;
    }
}
