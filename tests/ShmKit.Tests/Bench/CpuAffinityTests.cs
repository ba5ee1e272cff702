using ShmKit.Bench;

namespace ShmKit.Tests.Bench;

/// <summary>The benchmark's thread pinning (internal to benchmarks/ShmKit.Bench), on real threads of this process.</summary>
public class CpuAffinityTests
{
    [Fact]
    public void CpuAffinityPinsAndRestoresTheCurrentThread()
    {
        var allowed = CpuAffinity.AllowedCpus;
        Assert.NotEmpty(allowed);
        Assert.Equal(allowed.Order(), allowed);
        // On a thread of its own (affinity is per thread); results are asserted here, not on that thread.
        bool pinned = false, restored = false;
        string? reason = null;
        IReadOnlyList<int> whilePinned = [], afterRestore = [];
        var thread = new Thread(() =>
        {
            pinned = CpuAffinity.TryPinCurrentThread(allowed[^1], out reason);
            whilePinned = CpuAffinity.AllowedCpus;
            restored = CpuAffinity.TrySetCurrentThread(allowed);
            afterRestore = CpuAffinity.AllowedCpus;
        });
        thread.Start();
        thread.Join();
        Assert.True(pinned, reason);
        Assert.Equal([allowed[^1]], whilePinned);
        Assert.True(restored);
        Assert.Equal(allowed, afterRestore);

        Assert.False(CpuAffinity.TryPinCurrentThread(-1, out string? negative));
        Assert.Contains("-1", negative, StringComparison.Ordinal);
        Assert.False(CpuAffinity.TryPinCurrentThread(100_000, out string? huge));
        Assert.NotNull(huge);
        Assert.Equal(allowed, CpuAffinity.AllowedCpus); // the failed calls changed nothing
    }
}
