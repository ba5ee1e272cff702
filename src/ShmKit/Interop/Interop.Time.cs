using System.Runtime.InteropServices;

namespace ShmKit.Interop;

/// <summary>clock_gettime(2) (time.h): reads the clock futex deadlines are measured on.</summary>
internal static unsafe partial class TimeCalls
{
    [LibraryImport(Libraries.Libc, EntryPoint = "clock_gettime", SetLastError = true)]
    internal static partial int clock_gettime(int clockid, Sem.timespec* tp);
}
