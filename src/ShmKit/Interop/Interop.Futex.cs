using System.Runtime.InteropServices;

namespace ShmKit.Interop;

/// <summary>futex(2) and futex_waitv(2) (linux/futex.h), called through <see cref="Syscalls.syscall"/>.</summary>
internal static unsafe partial class FutexCalls
{
    // futex(2) operations.
    internal const int FUTEX_WAIT = 0;
    internal const int FUTEX_WAKE = 1;
    internal const int FUTEX_WAIT_BITSET = 9;
    internal const int FUTEX_WAKE_BITSET = 10;

    /// <summary>Keys the futex by (mm, address): only for words in this process's private memory, never in a segment.</summary>
    internal const int FUTEX_PRIVATE_FLAG = 128;

    /// <summary>With FUTEX_WAIT_BITSET: the absolute timeout is CLOCK_REALTIME instead of CLOCK_MONOTONIC.</summary>
    internal const int FUTEX_CLOCK_REALTIME = 256;

    /// <summary>The bitset that matches every waker (FUTEX_WAIT_BITSET with it behaves like FUTEX_WAIT).</summary>
    internal const uint FUTEX_BITSET_MATCH_ANY = 0xFFFFFFFF;

    /// <summary>futex_waitv entry flag: a 32-bit word (FUTEX2_SIZE_U32 in Linux 6.7+ headers).</summary>
    internal const uint FUTEX_32 = 2;

    /// <summary>The most entries one futex_waitv call takes.</summary>
    internal const int FUTEX_WAITV_MAX = 128;

    // clockid_t values (time.h).
    internal const int CLOCK_REALTIME = 0;
    internal const int CLOCK_MONOTONIC = 1;

    /// <summary><c>struct futex_waitv</c> (24 bytes, same on x86-64 and arm64).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct futex_waitv
    {
        /// <summary>The expected value of the word (zero-extended).</summary>
        public ulong val;

        /// <summary>The word's address.</summary>
        public ulong uaddr;

        /// <summary><see cref="FUTEX_32"/>, plus <see cref="FUTEX_PRIVATE_FLAG"/> for private words only.</summary>
        public uint flags;

        public uint __reserved;
    }

    /// <summary>
    /// futex(uaddr, op, val, timeout, uaddr2, val3). Returns the call's result or -1 with errno.
    /// </summary>
    internal static int futex(int* uaddr, int op, int val, Sem.timespec* timeout, int* uaddr2, uint val3) =>
        (int)Syscalls.syscall(Syscalls.SYS_futex, (nint)uaddr, op, val, (nint)timeout, (nint)uaddr2, (nint)val3);

    /// <summary>
    /// futex_waitv(waiters, nr_futexes, flags = 0, timeout, clockid). The timeout is absolute on
    /// <paramref name="clockid"/>; null waits without one. Returns the index of a woken entry, or -1 with errno
    /// (EAGAIN: some entry's value differed at entry).
    /// </summary>
    internal static int sys_futex_waitv(futex_waitv* waiters, uint nr_futexes, uint flags, Sem.timespec* timeout, int clockid) =>
        (int)Syscalls.syscall(Syscalls.SYS_futex_waitv, (nint)waiters, (nint)nr_futexes, (nint)flags, (nint)timeout, clockid, 0);
}
