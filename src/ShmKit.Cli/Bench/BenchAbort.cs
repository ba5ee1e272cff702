using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace ShmKit.Cli.Bench;

/// <summary>
/// The process-wide "stop now" flag that busy-spin loops poll (every 2^20 spins, a few milliseconds): set on Ctrl-C,
/// SIGTERM, or when the peer process dies, so a spinner never waits forever for a side that is gone.
/// </summary>
internal static class BenchAbort
{
    /// <summary>How many spins pass between two looks at the flag (a power of two).</summary>
    internal const int CheckEvery = 1 << 20;

    private static volatile string? s_reason;

    internal static bool IsAborted => s_reason is not null;

    /// <summary>Why the run was aborted (null while it was not).</summary>
    internal static string? Reason => s_reason;

    internal static void Abort(string reason) => s_reason ??= reason;

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
