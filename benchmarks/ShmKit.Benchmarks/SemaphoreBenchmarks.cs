using BenchmarkDotNet.Attributes;

namespace ShmKit.Benchmarks;

/// <summary>
/// Uncontended semaphore operations: each is one semop(2) system call that never blocks. SEM_UNDO costs an extra
/// per-process undo record update in the kernel. All allocate nothing.
/// </summary>
[MemoryDiagnoser]
public class SemaphoreBenchmarks
{
    private SemaphoreSet? _set;

    [GlobalSetup]
    public void Setup() => _set = SemaphoreSet.CreatePrivate([1]);

    [GlobalCleanup]
    public void Cleanup() => _set?.Remove();

    [Benchmark]
    public void WaitRelease()
    {
        _set!.Wait(0, undo: false);
        _set.Release(0, undo: false);
    }

    [Benchmark]
    public void WaitReleaseWithUndo()
    {
        _set!.Wait(0);
        _set.Release(0);
    }

    [Benchmark]
    public bool TryWaitRelease()
    {
        bool taken = _set!.TryWait(0, undo: false);
        _set.Release(0, undo: false);
        return taken;
    }

    /// <summary>The timed path (semtimedop) with a timeout that never expires.</summary>
    [Benchmark]
    public void WaitWithTimeoutRelease()
    {
        _set!.Wait(0, timeout: TimeSpan.FromSeconds(10), undo: false);
        _set.Release(0, undo: false);
    }
}
