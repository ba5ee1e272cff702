using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ShmKit.Bench;

/// <summary>
/// The process-wide "stop now" flag that busy-spin loops poll (every 2^20 spins, a few milliseconds): set on Ctrl-C,
/// SIGTERM, or when the peer process dies, so a spinner never waits forever for a side that is gone.
/// </summary>
internal static unsafe class BenchAbort
{
    /// <summary>How many spins pass between two looks at the flag (a power of two).</summary>
    internal const int CheckEvery = 1 << 20;

    /// <summary>
    /// The flag as a plain int in native memory (never freed; set to 1 once aborted), for hot loops that must not
    /// contain a call: a static readonly pointer is a constant to the JIT, so checking it is one load.
    /// </summary>
    internal static readonly int* Flag = (int*)NativeMemory.AllocZeroed(sizeof(int));

    private static readonly CancellationTokenSource s_cancellation = new();

    private static volatile string? s_reason;

    /// <summary>
    /// Cancelled when the run is aborted: for waits that neither spin (and look at <see cref="Flag"/>) nor end when a
    /// kernel object is removed (a semaphore wait ends with EIDRM), i.e. the library's futex waits (ShmMutex, ShmEvent).
    /// </summary>
    internal static CancellationToken Token => s_cancellation.Token;

    internal static bool IsAborted => s_reason is not null;

    /// <summary>Why the run was aborted (null while it was not).</summary>
    internal static string? Reason => s_reason;

    internal static void Abort(string reason)
    {
        s_reason ??= reason;
        Volatile.Write(ref *Flag, 1);
        try
        {
            s_cancellation.Cancel();
        }
        catch (AggregateException)
        {
            // A registered callback failed; the flag is set and the other callbacks ran.
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ThrowIfAborted()
    {
        if (s_reason is not null)
        {
            ThrowAborted();
        }
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowAborted() => throw new OperationCanceledException("Benchmark aborted: " + s_reason);
}

/// <summary>A message that failed verification: the run stops and reports it (exit code 1).</summary>
internal sealed class BenchVerificationException(string message) : Exception(message);
