using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace ShmKit.Bench;

/// <summary>
/// The four signals of a ping-pong whose 64-byte lines live in shared memory and whose hand-offs go through a
/// synchronization object (a pair of semaphores, a pair of auto-reset events): a struct per kind, so that
/// <see cref="HandOffPingPong"/>'s loops are compiled once per kind with the calls inlined.
/// </summary>
/// <remarks>
/// Ordering: each Send is a release and each Await that it satisfies an acquire (a system call, or the primitive's
/// atomic read-modify-write on its word), so the plain stores to a line before its Send are visible after the matching
/// Await. A side never reads a line before its Await returned, so it never sees one mid-update.
/// </remarks>
internal interface IHandOffSignals
{
    /// <summary>Host: the ping line is written.</summary>
    public void SendPing();

    /// <summary>Host: waits until the pong line is written.</summary>
    public void AwaitPong();

    /// <summary>Peer: waits until the ping line is written.</summary>
    public void AwaitPing();

    /// <summary>Peer: the pong line is written.</summary>
    public void SendPong();
}

/// <summary>
/// rtt-64 over signalled hand-offs (shm-semaphore; shm-event and shm-event-blocking once ShmEvent lands): the host
/// writes sequence s into the 8 words of the ping line (word 7 last) and signals; the peer awaits it, checks word 7,
/// copies the line into the pong line and signals back; the host awaits that and checks words 0 and 7. One timestamp
/// per round trip, as in every rtt-64 row.
/// </summary>
internal static unsafe class HandOffPingPong
{
    /// <summary>The host's loop.</summary>
    /// <returns>0, or the first sequence whose answer was wrong (then <paramref name="total"/> is 0).</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static ulong Host<TSignals>(ref TSignals signals, ulong* ping, ulong* pong, ulong firstSequence, int count, long[] roundTrips, out long total)
        where TSignals : struct, IHandOffSignals
    {
        long first = Stopwatch.GetTimestamp();
        long previous = first;
        for (int i = 0; i < count; i++)
        {
            ulong seq = firstSequence + (ulong)i;
            for (int w = 0; w < 7; w++)
            {
                ping[w] = seq + (ulong)w;
            }

            ping[7] = seq;
            signals.SendPing();
            signals.AwaitPong();
            if (pong[7] != seq || pong[0] != seq)
            {
                total = 0;
                return seq;
            }

            long now = Stopwatch.GetTimestamp();
            roundTrips[i] = now - previous;
            previous = now;
        }

        total = previous - first;
        return 0;
    }

    /// <summary>The peer's loop.</summary>
    /// <returns>0, or the first sequence whose ping was wrong.</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static ulong Peer<TSignals>(ref TSignals signals, ulong* ping, ulong* pong, ulong firstSequence, int count)
        where TSignals : struct, IHandOffSignals
    {
        for (int i = 0; i < count; i++)
        {
            ulong seq = firstSequence + (ulong)i;
            signals.AwaitPing();
            if (ping[7] != seq)
            {
                return seq;
            }

            for (int w = 0; w < 8; w++)
            {
                pong[w] = ping[w];
            }

            signals.SendPong();
        }

        return 0;
    }
}
