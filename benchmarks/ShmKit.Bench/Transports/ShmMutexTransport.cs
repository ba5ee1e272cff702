#if SHMKIT_SYNC_PRIMITIVES
// Compiled once ShmMutex (issue 8) is on main: ShmKit.Bench.csproj then defines SHMKIT_SYNC_PRIMITIVES, which also
// registers the transport (BenchTransports). The lines that name ShmMutex are the ones to check against its final API.
namespace ShmKit.Bench;

/// <summary>
/// shm-mutex (lock-2p only): the library's robust <see cref="ShmMutex"/> in a managed segment, around the same plain
/// counter as every lock-2p row; each operation is <c>using (mutex.Lock()) { increment }</c>, as a user writes it.
/// </summary>
/// <remarks>
/// <para>Structures in the managed segment (<see cref="ManagedSegmentTransport"/>): the mutex "bench-lock" and the
/// block "bench-lock-words" (<see cref="LockWords"/>: counter, end time, start line; its fields' comments say who
/// writes and reads them and what orders them). The host creates both; the peer finds them by name.</para>
/// <para>No cancellation token on the lock, so that the row pays exactly what a user's <c>Lock()</c> pays, as raw-c's
/// pthread_mutex_lock does: a wait cannot outlast the peer, because the mutex is robust (a peer that dies holding it
/// hands it on within milliseconds, and the next Lock reports the abandonment, which fails the round), and a run that
/// is aborted kills the peer and ends the loop at its next abort check.</para>
/// </remarks>
internal sealed unsafe class ShmMutexTransport : ManagedSegmentTransport
{
    private const string MutexName = "bench-lock";
    private const string WordsName = "bench-lock-words";

    private ShmMutex? _mutex;
    private ManagedSegmentBlock _words;
    private long _hostIncrements;

    internal override string Name => "shm-mutex";

    /// <summary>The lock spins briefly before it sleeps: the busy-spin counts (one round in milliseconds).</summary>
    internal override bool IsSpin => true;

    internal override bool Supports(BenchWorkload workload) => workload == BenchWorkload.Lock2P;

    /// <summary>Before the command goes out (the peer is idle): a zero counter.</summary>
    internal override void PrepareRound(BenchWorkload workload)
    {
        using var lease = Segment.Attachment.Acquire();
        LockWorkload.Reset((LockWords*)At(lease, _words));
    }

    internal override long HostRun(BenchWorkload workload, int count, ulong firstSequence, long[] roundTrips)
    {
        using var lease = Segment.Attachment.Acquire(); // one reference for the whole round
        var step = new LockStep(_mutex!);
        return LockWorkload.HostRun(ref step, (LockWords*)At(lease, _words), count, firstSequence, Name, out _hostIncrements);
    }

    internal override long PeerRun(BenchWorkload workload, int count, ulong firstSequence)
    {
        using var lease = Segment.Attachment.Acquire();
        var step = new LockStep(_mutex!);
        return LockWorkload.PeerRun(ref step, (LockWords*)At(lease, _words), count, firstSequence);
    }

    /// <summary>The increments must add up (the peer has answered, so its last unlock is done).</summary>
    internal override void CompleteRound(BenchWorkload workload, int count, long peerResult)
    {
        using var lease = Segment.Attachment.Acquire();
        LastHostShare = LockWorkload.Verify((LockWords*)At(lease, _words), count, _hostIncrements, peerResult, Name);
    }

    protected override void OpenStructures(ManagedSegment segment)
    {
        _words = segment.OpenOrCreateBlock(WordsName, LockWords.Size);
        _mutex = ShmMutex.OpenOrCreate(segment, MutexName);
    }

    /// <summary>lock-2p's operation with the ShmMutex, as a user writes it.</summary>
    private readonly struct LockStep(ShmMutex mutex) : ILockedIncrement
    {
        public bool Step(LockWords* words, ulong limit)
        {
            using (mutex.Lock())
            {
                return LockWorkload.IncrementUnderLock(words, limit);
            }
        }
    }
}
#endif
