using System.Globalization;
using System.Runtime.InteropServices;
using ShmKit.Bench.Interop;

namespace ShmKit.Bench;

/// <summary>
/// Pins threads to CPUs (sched_setaffinity) and lists the CPUs this process may run on (sched_getaffinity).
/// The benchmark uses it to keep each side of a transport on its own core (internal to it: the library has no use for it).
/// </summary>
/// <remarks>
/// Affinity is per thread on Linux: <see cref="TryPinCurrentThread"/> affects only the calling OS thread. Managed
/// code stays on the OS thread it started on, so pinning the thread that runs a loop pins that loop. CPU numbers
/// above 1023 are not supported (a 1024-bit mask, the glibc default <c>cpu_set_t</c>).
/// </remarks>
internal static class CpuAffinity
{
    private const int MaskWords = 16; // 16 x 64 = 1024 CPUs, sizeof(cpu_set_t) in glibc.

    /// <summary>
    /// The CPUs this process's calling thread may run on, in ascending order (its affinity mask, which containers,
    /// taskset and cgroups may narrow below <see cref="Environment.ProcessorCount"/>).
    /// </summary>
    /// <remarks>An empty list means the mask could not be read.</remarks>
    internal static unsafe IReadOnlyList<int> AllowedCpus
    {
        get
        {
            ulong* mask = stackalloc ulong[MaskWords];
            new Span<ulong>(mask, MaskWords).Clear();
            if (AffinityCalls.sched_getaffinity(0, MaskWords * sizeof(ulong), mask) < 0)
            {
                return [];
            }

            var cpus = new List<int>();
            for (int word = 0; word < MaskWords; word++)
            {
                for (int bit = 0; bit < 64; bit++)
                {
                    if ((mask[word] & (1UL << bit)) != 0)
                    {
                        cpus.Add((word * 64) + bit);
                    }
                }
            }

            return cpus;
        }
    }

    /// <summary>Pins the calling thread to one CPU.</summary>
    /// <param name="cpu">The CPU number (0-based, as in <c>/proc/cpuinfo</c> and <see cref="AllowedCpus"/>).</param>
    /// <param name="reason">Why it could not be pinned (null on success): a CPU out of range, or the kernel's refusal.</param>
    /// <returns>True when the thread now runs only on <paramref name="cpu"/>.</returns>
    internal static unsafe bool TryPinCurrentThread(int cpu, out string? reason)
    {
        if (cpu < 0 || cpu >= MaskWords * 64)
        {
            reason = string.Create(CultureInfo.InvariantCulture, $"CPU {cpu} is outside 0..{(MaskWords * 64) - 1}.");
            return false;
        }

        ulong* mask = stackalloc ulong[MaskWords];
        new Span<ulong>(mask, MaskWords).Clear();
        mask[cpu / 64] = 1UL << (cpu % 64);
        if (AffinityCalls.sched_setaffinity(0, MaskWords * sizeof(ulong), mask) < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            reason = string.Create(CultureInfo.InvariantCulture,
                $"sched_setaffinity(CPU {cpu}) failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}); the CPU may be offline or outside this process's allowed set (cgroup cpuset, taskset).");
            return false;
        }

        reason = null;
        return true;
    }

    /// <summary>Lets the calling thread run on every CPU in <paramref name="cpus"/> again (undoes a pin).</summary>
    /// <param name="cpus">The CPUs, for example a saved <see cref="AllowedCpus"/>.</param>
    /// <returns>True on success.</returns>
    internal static unsafe bool TrySetCurrentThread(IEnumerable<int> cpus)
    {
        ArgumentNullException.ThrowIfNull(cpus);
        ulong* mask = stackalloc ulong[MaskWords];
        new Span<ulong>(mask, MaskWords).Clear();
        foreach (int cpu in cpus)
        {
            if (cpu >= 0 && cpu < MaskWords * 64)
            {
                mask[cpu / 64] |= 1UL << (cpu % 64);
            }
        }

        return AffinityCalls.sched_setaffinity(0, MaskWords * sizeof(ulong), mask) == 0;
    }
}
