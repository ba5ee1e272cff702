using System.Runtime.InteropServices;

namespace ShmKit.Interop;

/// <summary>
/// TEMPORARY (issue 8, branch h6-managed): the minimal futex(2) trampoline the Memory/ layer needs until helper h5's
/// Interop.Futex.cs (futex + futex_waitv) is merged; the lead replaces this file with that one. Shared futexes only:
/// FUTEX_PRIVATE_FLAG is never set, because the words live in System V shared memory (see
/// /work/shared/reference/futex-and-robustness.md §1.3).
/// </summary>
internal static unsafe partial class TemporaryFutexCalls
{
    /// <summary>FUTEX_WAKE: wake up to val waiters.</summary>
    internal const int FUTEX_WAKE = 1;

    /// <summary>FUTEX_WAIT_BITSET: like FUTEX_WAIT, but the timeout is an absolute CLOCK_MONOTONIC time.</summary>
    internal const int FUTEX_WAIT_BITSET = 9;

    /// <summary>The bitset that matches every waker (FUTEX_BITSET_MATCH_ANY).</summary>
    internal const uint FUTEX_BITSET_MATCH_ANY = 0xFFFFFFFF;

    /// <summary>SYS_futex: 202 on x86-64, 98 on arm64 (asm-generic table).</summary>
    internal static long SYS_futex => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 98 : 202;

    /// <summary>
    /// syscall(2) with futex's six arguments. glibc's <c>syscall</c> only shifts registers, so a fixed-arity
    /// declaration is ABI-correct on x86-64 and arm64.
    /// </summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "syscall", SetLastError = true)]
    internal static partial long syscall(long number, int* uaddr, int futexOp, int val, Sem.timespec* timeout, int* uaddr2, uint val3);
}
