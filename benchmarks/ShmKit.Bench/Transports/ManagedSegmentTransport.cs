using System.Globalization;

namespace ShmKit.Bench;

/// <summary>
/// The base of the transports that use the library's synchronization primitives (shm-mutex, shm-event,
/// shm-event-blocking): one private <see cref="ManagedSegment"/> per transport, holding the primitives and the
/// workload's words as named structures, found by name in the peer as any two processes of an application would.
/// </summary>
/// <remarks>
/// <para>Kernel objects: the managed segment's System V segment and its semaphore set of liveness tokens. The host
/// creates both (<see cref="ManagedSegment.CreatePrivate"/>, mode 0600) and passes the segment id to the peer, which
/// opens it (<see cref="ManagedSegment.OpenById"/>; the token set's id is in the segment). Once the peer has attached
/// the segment is removed (IPC_RMID: it goes with the last detach, even when both processes are SIGKILLed); the token
/// set stays until the end of the run, because the primitives' robustness reads it, and is removed by the host's
/// cleanup, or by the peer when the host died without cleaning up.</para>
/// <para>Every access to the words goes through a lease of <see cref="ManagedSegment.Attachment"/> held for the round,
/// so the mapping cannot go away under a loop.</para>
/// </remarks>
internal abstract unsafe class ManagedSegmentTransport : BenchTransport
{
    /// <summary>Heap for the structures: a few primitives and 512-byte blocks (each allocation is 128-byte aligned).</summary>
    private const long HeapBytes = 64 * 1024;

    private ManagedSegment? _segment;

    /// <summary>The managed segment (after <see cref="PrepareHost"/> or <see cref="ConnectPeer"/>).</summary>
    protected ManagedSegment Segment => _segment ?? throw new InvalidOperationException(Name + ": the managed segment is not open.");

    internal override string PrepareHost(BenchCleanup cleanup)
    {
        var segment = ManagedSegment.CreatePrivate(ManagedSegment.GetMinimumSize() + HeapBytes);
        _segment = segment;
        cleanup.Add(Name + " managed segment and its liveness tokens", () => RemoveKernelObjects(segment));
        OpenStructures(segment);
        return segment.Id.ToString(CultureInfo.InvariantCulture);
    }

    internal override void ConnectPeer(string setup)
    {
        _segment = ManagedSegment.OpenById(int.Parse(setup, CultureInfo.InvariantCulture));
        OpenStructures(_segment);
    }

    /// <summary>Both sides attached: the segment goes with the last detach (the token set stays for the primitives).</summary>
    internal override void PeerReady() => RemoveQuietly(Segment.Segment.Remove);

    /// <summary>The host died without cleaning up: remove the token set (and the segment, if it is still there).</summary>
    internal override void RemoveOrphanedObjects()
    {
        if (_segment is { } segment)
        {
            RemoveKernelObjects(segment);
        }
    }

    /// <summary>
    /// Finds or creates the transport's named structures in <paramref name="segment"/>: the host creates them (it
    /// opens first), the peer finds them by the same names.
    /// </summary>
    protected abstract void OpenStructures(ManagedSegment segment);

    /// <summary>
    /// The address of <paramref name="block"/>, valid while <paramref name="lease"/> is held (checked against the
    /// mapping's real size, as the library checks every offset it reads from a directory).
    /// </summary>
    protected static byte* At(in SharedMemoryLease lease, ManagedSegmentBlock block)
    {
        if (block.Offset < 0 || block.Length < 0 || block.Offset > lease.Length - block.Length)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"The block '{block.Name}' ({block.Length} bytes at {block.Offset}) lies outside the {lease.Length}-byte mapping."));
        }

        return (byte*)lease.Address + block.Offset;
    }

    /// <summary>Unregisters and detaches (removes nothing: the cleanup does that).</summary>
    protected override void Dispose(bool disposing) => _segment?.Dispose();

    private static void RemoveKernelObjects(ManagedSegment segment)
    {
        RemoveQuietly(segment.Segment.Remove);
        RemoveQuietly(segment.LivenessTokens.Remove);
    }
}
