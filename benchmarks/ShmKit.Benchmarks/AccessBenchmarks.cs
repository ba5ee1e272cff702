using BenchmarkDotNet.Attributes;

namespace ShmKit.Benchmarks;

/// <summary>
/// Random access into an attached segment: typed Read/Write at an offset, GetSpan, GetRef with a Volatile write.
/// Every call checks the offset against the segment's size; these show what that check costs. All allocate nothing.
/// </summary>
[MemoryDiagnoser]
public class AccessBenchmarks
{
    private const int Size = 1 << 20;
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

    [Benchmark]
    public long ReadInt64() => _attachment!.Read<long>(_offset);

    [Benchmark]
    public void WriteInt64() => _attachment!.Write(_offset, 42L);

    /// <summary>A 64-byte record: what a table update writes.</summary>
    [Benchmark]
    public void WriteRecord64() => _attachment!.Write(_offset, default(Record64));

    [Benchmark]
    public int GetSpan64() => _attachment!.GetSpan(_offset, 64).Length;

    [Benchmark]
    public void VolatileWriteViaGetRef() => Volatile.Write(ref _attachment!.GetRef<long>(_offset), 7L);

    /// <summary>The same read without ShmKit's check, for contrast (unsafe pointer arithmetic on Address).</summary>
    [Benchmark(Baseline = true)]
    public unsafe long RawPointerRead() => *(long*)(_attachment!.Address + (nint)_offset);
}
