using BenchmarkDotNet.Attributes;

namespace ShmKit.Benchmarks;

/// <summary>
/// Segment life cycle: attach+detach of an existing segment (shmat+shmdt), the whole
/// create+attach+detach+remove cycle (machine-limits.md measured ≈15 µs for it in C), and the reference counting that
/// keeps a mapping alive: a lease's Acquire + Dispose, and a SharedMemoryManager's Pin + Unpin.
/// </summary>
[MemoryDiagnoser]
public class AttachmentBenchmarks
{
    private readonly long _smallSize = 4096;
    private SharedMemorySegment? _segment;

    private SharedMemoryAttachment? _attachment;
    private SharedMemoryManager? _manager;

    [GlobalSetup]
    public void Setup()
    {
        _segment = SharedMemorySegment.CreatePrivate(1 << 20);
        _attachment = _segment.Attach();
        _manager = new SharedMemoryManager(_attachment, 0, 4096);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _manager?.Dispose();
        _attachment?.Dispose();
        _segment?.Remove();
    }

    /// <summary>A lease's Acquire + Dispose: one reference taken and given back (two atomic operations, no allocation).</summary>
    [Benchmark]
    public long AcquireDispose()
    {
        using var lease = _attachment!.Acquire();
        return lease.Length;
    }

    /// <summary>Memory.Pin + MemoryHandle.Dispose on a SharedMemoryManager: what a stream or pipeline pays per pinned buffer.</summary>
    [Benchmark]
    public unsafe nint PinUnpin()
    {
        using var pin = _manager!.Memory.Pin();
        return (nint)pin.Pointer;
    }

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
