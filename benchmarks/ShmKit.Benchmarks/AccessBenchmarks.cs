using BenchmarkDotNet.Attributes;

namespace ShmKit.Benchmarks;

/// <summary>
/// Random access into an attached segment: the copying calls (typed Read/Write at an offset, each holding a reference
/// on the mapping for its duration), a lease's Acquire + Dispose, and GetSpan and an aligned ref with a Volatile write
/// under one lease held across a batch. Every access checks the offset against the segment's size; these show what
/// the checks and the reference counting cost. All allocate nothing.
/// </summary>
[MemoryDiagnoser]
public class AccessBenchmarks
{
    private const int Size = 1 << 20;
    private const int Batch = 1000;
    private SharedMemorySegment? _segment;
    private SharedMemoryAttachment? _attachment;
    private readonly long _offset = 4096;

    [GlobalSetup]
    public void Setup()
    {
        _segment = SharedMemorySegment.CreatePrivate(Size);
        _attachment = _segment.Attach();
        _segment.Remove(); // gone when detached
        _attachment.Clear(0, Size);
    }

    [GlobalCleanup]
    public void Cleanup() => _attachment?.Dispose();

    /// <summary>One copying call: bounds and disposed checks, reference taken and given back, an 8-byte load.</summary>
    [Benchmark]
    public long ReadInt64() => _attachment!.Read<long>(_offset);

    [Benchmark]
    public void WriteInt64() => _attachment!.Write(_offset, 42L);

    /// <summary>A 64-byte record: what a table update writes.</summary>
    [Benchmark]
    public void WriteRecord64() => _attachment!.Write(_offset, default(Record64));

    /// <summary>A lease for one access: Acquire + Dispose (two atomic operations) around one span.</summary>
    [Benchmark]
    public int AcquireGetSpan64Dispose()
    {
        using var lease = _attachment!.Acquire();
        return lease.GetSpan(_offset, 64).Length;
    }

    /// <summary>GetSpan under a lease held for the batch (the way hot code uses leases); per access.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public int GetSpan64InLease()
    {
        using var lease = _attachment!.Acquire();
        int sum = 0;
        for (int i = 0; i < Batch; i++)
        {
            sum += lease.GetSpan(_offset + i, 64).Length;
        }

        return sum;
    }

    /// <summary>GetAlignedRef (bounds and alignment checks) and a Volatile write, under a lease held for the batch; per access.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void VolatileWriteViaAlignedRefInLease()
    {
        using var lease = _attachment!.Acquire();
        for (int i = 0; i < Batch; i++)
        {
            Volatile.Write(ref lease.GetAlignedRef<long>(_offset + (i * 8)), 7L);
        }
    }

    /// <summary>The same read without ShmKit's checks or reference, for contrast (unsafe pointer arithmetic on a lease's Address).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Batch)]
    public unsafe long RawPointerReadInLease()
    {
        using var lease = _attachment!.Acquire();
        long* p = (long*)(lease.Address + (nint)_offset);
        long sum = 0;
        for (int i = 0; i < Batch; i++)
        {
            sum += p[i];
        }

        return sum;
    }
}
