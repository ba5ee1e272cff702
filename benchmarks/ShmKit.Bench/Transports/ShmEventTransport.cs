#if SHMKIT_SYNC_PRIMITIVES
// Compiled once ShmEvent (issue 8) is on main: ShmKit.Bench.csproj then defines SHMKIT_SYNC_PRIMITIVES, which also
// registers the transports (BenchTransports). The lines that name ShmEvent are the ones to check against its final API.
namespace ShmKit.Bench;

/// <summary>
/// shm-event (spin-then-futex, the default) and shm-event-blocking (pure blocking), rtt-64 only: the 64-byte ping and
/// pong lines in a managed segment, handed over by two auto-reset <see cref="ShmEvent"/>s, ping and pong — the same
/// ping-pong as shm-semaphore's (<see cref="HandOffPingPong"/>) with the semaphores replaced by events.
/// </summary>
/// <remarks>
/// <para>Structures in the managed segment (<see cref="ManagedSegmentTransport"/>): the events "bench-ping" and
/// "bench-pong" and the block "bench-lines" (256 bytes: <c>[0]</c> ping line, 8 words, written by the host before it
/// sets "bench-ping", read by the peer after its wait on it returned; <c>[128]</c> pong line, the other way). Ordering:
/// Set is a release and the Wait it satisfies an acquire (the event's atomic operations on its word), so the plain
/// stores to a line are visible to the side whose wait returned; neither side reads a line before that, so neither
/// sees one mid-update.</para>
/// <para>The waits take <see cref="BenchAbort.Token"/>: an event nobody will set again (the peer was killed) must not
/// leave the host waiting; cancelling the token wakes the futex wait.</para>
/// </remarks>
/// <param name="strategy">SpinThenBlock for shm-event, Block for shm-event-blocking.</param>
internal sealed unsafe class ShmEventTransport(ShmWaitStrategy strategy) : ManagedSegmentTransport
{
    private const string PingName = "bench-ping";
    private const string PongName = "bench-pong";
    private const string LinesName = "bench-lines";
    private const int PongOffset = 128;

    private ShmEvent? _ping;
    private ShmEvent? _pong;
    private ManagedSegmentBlock _lines;

    internal override string Name => strategy == ShmWaitStrategy.Block ? "shm-event-blocking" : "shm-event";

    /// <summary>The default strategy spins before it sleeps (busy-spin counts); pure blocking gets the blocking counts.</summary>
    internal override bool IsSpin => strategy != ShmWaitStrategy.Block;

    internal override bool Supports(BenchWorkload workload) => workload == BenchWorkload.Rtt64;

    internal override long HostRun(BenchWorkload workload, int count, ulong firstSequence, long[] roundTrips)
    {
        using var lease = Segment.Attachment.Acquire(); // one reference for the whole round
        byte* lines = At(lease, _lines);
        var signals = new Signals(_ping!, _pong!);
        ulong bad = HandOffPingPong.Host(ref signals, (ulong*)lines, (ulong*)(lines + PongOffset), firstSequence, count, roundTrips, out long total);
        if (bad != 0)
        {
            Fail(workload, bad, "the answer carries another sequence number");
        }

        return total;
    }

    internal override long PeerRun(BenchWorkload workload, int count, ulong firstSequence)
    {
        using var lease = Segment.Attachment.Acquire();
        byte* lines = At(lease, _lines);
        var signals = new Signals(_ping!, _pong!);
        ulong bad = HandOffPingPong.Peer(ref signals, (ulong*)lines, (ulong*)(lines + PongOffset), firstSequence, count);
        if (bad != 0)
        {
            Fail(workload, bad, "the ping carries another sequence number");
        }

        return 0;
    }

    protected override void OpenStructures(ManagedSegment segment)
    {
        _lines = segment.OpenOrCreateBlock(LinesName, 256);
        _ping = ShmEvent.OpenOrCreate(segment, PingName, EventResetMode.AutoReset, strategy);
        _pong = ShmEvent.OpenOrCreate(segment, PongName, EventResetMode.AutoReset, strategy);
    }

    /// <summary>The ping-pong's hand-offs through the two events.</summary>
    private readonly struct Signals(ShmEvent ping, ShmEvent pong) : IHandOffSignals
    {
        public void SendPing() => ping.Set();

        public void AwaitPong() => pong.Wait(BenchAbort.Token);

        public void AwaitPing() => ping.Wait(BenchAbort.Token);

        public void SendPong() => pong.Set();
    }
}
#endif
