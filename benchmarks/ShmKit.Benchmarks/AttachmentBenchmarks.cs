using BenchmarkDotNet.Attributes;

namespace ShmKit.Benchmarks;

/// <summary>
/// Segment life cycle: attach+detach of an existing segment (shmat+shmdt), and the whole
/// create+attach+detach+remove cycle (machine-limits.md measured ≈15 µs for it in C).
/// </summary>
[MemoryDiagnoser]
public class AttachmentBenchmarks
{
    private readonly long _smallSize = 4096;
    private SharedMemorySegment? _segment;

    [GlobalSetup]
    public void Setup() => _segment = SharedMemorySegment.CreatePrivate(1 << 20);

    [GlobalCleanup]
    public void Cleanup() => _segment?.Remove();

    /// <summary>shmat + shmdt. Allocates the attachment object and its SafeHandle (by design: Dispose detaches).</summary>
    [Benchmark]
    public long AttachDetach()
    {
        using var attachment = _segment!.Attach();
        return attachment.Length;
    }

    /// <summary>shmget(IPC_PRIVATE) + shmat + shmdt + IPC_RMID of an untouched 4 KiB segment.</summary>
    [Benchmark]
    public long CreateAttachDetachRemove()
    {
        var segment = SharedMemorySegment.CreatePrivate(_smallSize);
        try
        {
            using var attachment = segment.Attach();
            return attachment.Length;
        }
        finally
        {
            segment.Remove();
        }
    }
}
