namespace ShmKit.Bench;

/// <summary>
/// One way of moving messages between two processes. The host (the process the user started) is the pinger for
/// latency and the consumer for throughput; the peer (the same executable started again, <c>peer</c>)
/// is the ponger and the producer. Both sides of one transport live in this one class, so the two halves of every
/// protocol sit next to each other.
/// </summary>
/// <remarks>
/// Life cycle on the host: <see cref="PrepareHost"/> (create kernel objects, before the peer starts) →
/// the peer starts and calls <see cref="ConnectPeer"/> → <see cref="ConnectHost"/> → the peer says ready →
/// <see cref="PeerReady"/> → rounds of <see cref="PrepareRound"/>, <see cref="HostRun"/> (paired with
/// <see cref="PeerRun"/> in the peer) and <see cref="CompleteRound"/> → <see cref="IDisposable.Dispose"/>, which
/// removes everything the transport created (also when called from a signal handler while a round runs).
/// </remarks>
internal abstract class BenchTransport : IDisposable
{
    /// <summary>The row name in tables and JSON.</summary>
    internal abstract string Name { get; }

    /// <summary>True for the busy-spin transports (raw-c, raw-cs): they get larger counts.</summary>
    internal virtual bool IsSpin => false;

    /// <summary>False when the transport is not run through the .NET peer (raw-c runs its own C processes).</summary>
    internal virtual bool UsesPeer => true;

    /// <summary>Why the transport cannot run here (null when it can).</summary>
    internal virtual string? Unavailable => null;

    /// <summary>
    /// Whether the transport can carry this workload. By default the four message workloads; a transport with a
    /// cross-process lock adds lock-2p, a lock-only one has only lock-2p, and SysV queues cannot carry 1 MiB messages.
    /// </summary>
    internal virtual bool Supports(BenchWorkload workload) => workload.MovesMessages();

    /// <summary>
    /// lock-2p: the share of the last round's increments that the host made (0..1; the rest were the peer's), set by
    /// <see cref="HostRun"/> or <see cref="CompleteRound"/>; null for the other workloads (the runner clears it before
    /// each round). A barging lock may let one side take it many times in a row: the table shows it as a note.
    /// </summary>
    internal double? LastHostShare { get; set; }

    /// <summary>Host side, before the peer starts: creates the kernel objects and returns the peer's setup string.</summary>
    internal abstract string PrepareHost(BenchCleanup cleanup);

    /// <summary>Host side, right after the peer process started: accept connections, drop inherited handles.</summary>
    internal virtual void ConnectHost()
    {
    }

    /// <summary>Host side, once the peer reported that it is attached/connected (segments are removed here).</summary>
    internal virtual void PeerReady()
    {
    }

    /// <summary>Host side, before the round's command is sent (the peer is idle): reset per-round state.</summary>
    internal virtual void PrepareRound(BenchWorkload workload)
    {
    }

    /// <summary>Peer side: attaches to or connects to what <see cref="PrepareHost"/> made.</summary>
    internal abstract void ConnectPeer(string setup);

    /// <summary>
    /// Host side of one round. Latency: sends <paramref name="count"/> pings, stores each round trip's duration in
    /// Stopwatch ticks in <paramref name="roundTrips"/> and returns their sum. Throughput: receives and verifies
    /// <paramref name="count"/> messages and returns the Stopwatch timestamp taken after the last one (transports that
    /// do not use the peer return the elapsed ticks instead). lock-2p: meets the peer at the start line, increments
    /// with it until the counter reaches <paramref name="count"/> and returns the elapsed Stopwatch ticks from the
    /// start to the last increment (<see cref="LockWorkload"/>); <paramref name="firstSequence"/> names the round.
    /// </summary>
    internal abstract long HostRun(BenchWorkload workload, int count, ulong firstSequence, long[] roundTrips);

    /// <summary>
    /// Peer side of one round: answers <paramref name="count"/> pings, or produces <paramref name="count"/> messages and
    /// returns the Stopwatch timestamp taken before the first (0 for latency); lock-2p: returns the peer's increments.
    /// </summary>
    internal abstract long PeerRun(BenchWorkload workload, int count, ulong firstSequence);

    /// <summary>
    /// Host side, after the peer answered the round with <paramref name="peerResult"/> (what <see cref="PeerRun"/>
    /// returned): the checks that need both sides' figures. lock-2p: the two sides' increments must add up to the
    /// counter, which must equal <paramref name="count"/>; throws <see cref="BenchVerificationException"/> otherwise.
    /// </summary>
    internal virtual void CompleteRound(BenchWorkload workload, int count, long peerResult)
    {
    }

    /// <summary>
    /// Peer side, when the host died without cleaning up (SIGKILL): remove the kernel objects that outlive processes
    /// (semaphore sets, queues). Segments need nothing: they were removed once both sides attached.
    /// </summary>
    internal virtual void RemoveOrphanedObjects()
    {
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Removes what this transport created. Idempotent and safe to call from another thread.</summary>
    protected abstract void Dispose(bool disposing);

    /// <summary>
    /// Runs a removal (<c>Remove</c> of a segment, semaphore set or queue) for cleanup: an object that is already gone
    /// counts as removed, whether it was removed by us (a segment after both sides attached, the normal case), by the
    /// peer, or by someone else. Any other failure propagates to <see cref="BenchCleanup"/>, which reports it.
    /// </summary>
    protected static void RemoveQuietly(Action remove)
    {
        try
        {
            remove();
        }
        catch (IpcObjectNotFoundException)
        {
        }
        catch (IpcObjectRemovedException)
        {
        }
    }

    /// <summary>Throws the verification failure of a message.</summary>
    protected void Fail(BenchWorkload workload, ulong sequence, string what) =>
        throw new BenchVerificationException(
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Name} {workload.Name()}: message {sequence} failed verification ({what})."));
}
