using System.Runtime.InteropServices;

namespace ShmKit.Interop;

/// <summary>prctl(2) (sys/prctl.h), for PR_SET_PDEATHSIG.</summary>
internal static partial class Prctl
{
    /// <summary>Set the signal the calling thread's process receives when its parent thread dies.</summary>
    internal const int PR_SET_PDEATHSIG = 1;
    internal const int PR_GET_PDEATHSIG = 2;

    /// <summary>
    /// prctl is variadic in C (<c>int prctl(int option, ...)</c>); the four unsigned long arguments travel in the same
    /// registers as fixed ones on x86-64 and arm64 Linux. Unused arguments must be 0.
    /// </summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "prctl", SetLastError = true)]
    internal static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);
}
