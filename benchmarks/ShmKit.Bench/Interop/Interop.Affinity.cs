using System.Runtime.InteropServices;

namespace ShmKit.Bench.Interop;

/// <summary>CPU affinity (sched.h), for <see cref="CpuAffinity"/>: declarations only.</summary>
internal static unsafe partial class AffinityCalls
{
    private const string Libc = "libc";

    /// <summary>sched_setaffinity(2) for the calling thread when <paramref name="pid"/> is 0.</summary>
    [LibraryImport(Libc, EntryPoint = "sched_setaffinity", SetLastError = true)]
    internal static partial int sched_setaffinity(int pid, nuint cpusetsize, ulong* mask);

    /// <summary>sched_getaffinity(2): the calling thread's mask when <paramref name="pid"/> is 0.</summary>
    [LibraryImport(Libc, EntryPoint = "sched_getaffinity", SetLastError = true)]
    internal static partial int sched_getaffinity(int pid, nuint cpusetsize, ulong* mask);
}
