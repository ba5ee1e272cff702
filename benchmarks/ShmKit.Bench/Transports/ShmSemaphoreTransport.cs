using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ShmKit.Bench;

/// <summary>
/// shm-semaphore: shared memory for the data, a System V semaphore set (<see cref="SemaphoreSet"/>) for every
/// hand-off; the classic textbook design, which blocks in the kernel instead of spinning. For lock-2p, the System V
/// SEM_UNDO lock (<see cref="SemaphoreSet.Lock"/>) around the counter.
/// </summary>
/// <remarks>
/// <para>Segment layout (removed right after both sides attached): <c>[0]</c> ping line, 8 words, written by the pinger
/// (host), read by the ponger (peer); <c>[128]</c> pong line, the other way; <c>[1024]</c> the lock-2p words
/// (<see cref="LockWords"/>: counter, end time, start line); <c>[4096]</c> the ring, written by the producer (peer),
/// read by the consumer (host), with the same slot sizes as raw-cs.</para>
/// <para>Semaphores: 0 = a ping is ready, 1 = a pong is ready, 2 = messages in the ring, 3 = free slots, all without
/// SEM_UNDO (counting hand-offs, not locks); 4 = the lock-2p lock, initially 1, taken and given back with SEM_UNDO
/// (a process that dies holding it gives it back). Ordering: semop is a system call that takes the set's lock in the
/// kernel, so every plain store a process made before its Release is visible to the process whose Wait that Release
/// satisfied; no Volatile is needed on the data. A reader never looks at a line or slot before its Wait returned, so
/// it never sees one mid-update; the counter is touched only while holding semaphore 4.</para>
/// </remarks>
internal sealed unsafe class ShmSemaphoreTransport : BenchTransport
{
    private const int PingReady = 0;
    private const int PongReady = 1;
    private const int Items = 2;
    private const int FreeSlots = 3;
    private const int Lock = 4;
    private const int LockWordsOffset = 1024;

    private SharedMemorySegment? _segment;
    private SharedMemoryAttachment? _attachment;
    private SemaphoreSet? _semaphores;
    private byte* _message;
    private long _hostIncrements;

    internal override string Name => "shm-semaphore";

    internal override bool Supports(BenchWorkload workload) => true;

    internal override string PrepareHost(BenchCleanup cleanup)
    {
        _segment = SharedMemorySegment.CreatePrivate(RawCsTransport.SegmentSize);
        var segment = _segment;
        cleanup.Add("shm-semaphore segment", () => RemoveQuietly(segment.Remove));
        _semaphores = SemaphoreSet.CreatePrivate([0, 0, 0, 0, 1]);
        var semaphores = _semaphores;
        cleanup.Add("shm-semaphore semaphore set", () => RemoveQuietly(semaphores.Remove));
        Attach();
        return string.Create(CultureInfo.InvariantCulture, $"{_segment.Id},{_semaphores.Id}");
    }

    internal override void PeerReady() => _segment!.Remove();

    internal override void RemoveOrphanedObjects() => RemoveQuietly(_semaphores!.Remove);

    internal override void ConnectPeer(string setup)
    {
        string[] ids = setup.Split(',');
        _segment = SharedMemorySegment.OpenById(int.Parse(ids[0], CultureInfo.InvariantCulture));
        _semaphores = SemaphoreSet.OpenById(int.Parse(ids[1], CultureInfo.InvariantCulture));
        Attach();
    }

    /// <summary>Before the command goes out: an empty ring of this round's slot count, or a zero counter (the peer is idle now).</summary>
    internal override void PrepareRound(BenchWorkload workload)
    {
        if (workload == BenchWorkload.Lock2P)
        {
            using var lease = _attachment!.Acquire();
            LockWorkload.Reset((LockWords*)((byte*)lease.Address + LockWordsOffset));
            return;
        }

        int size = workload.MessageSize();
        _semaphores!.SetValue(Items, 0);
        _semaphores.SetValue(FreeSlots, RawCsTransport.RingBytes(size) / size);
    }

    internal override long HostRun(BenchWorkload workload, int count, ulong firstSequence, long[] roundTrips)
    {
        using var lease = _attachment!.Acquire(); // one reference for the whole run
        byte* b = (byte*)lease.Address;
        var sem = _semaphores!;
        if (workload == BenchWorkload.Rtt64)
        {
            var signals = new Signals(sem);
            ulong bad = HandOffPingPong.Host(ref signals, (ulong*)(b + RawCsTransport.PingOffset), (ulong*)(b + RawCsTransport.PongOffset), firstSequence, count, roundTrips, out long total);
            if (bad != 0)
            {
                Fail(workload, bad, "the answer carries another sequence number");
            }

            return total;
        }

        if (workload == BenchWorkload.Lock2P)
        {
            var step = new LockStep(sem);
            return LockWorkload.HostRun(ref step, (LockWords*)(b + LockWordsOffset), count, firstSequence, Name, out _hostIncrements);
        }

        int size = workload.MessageSize();
        int slots = RawCsTransport.RingBytes(size) / size;
        byte* data = b + RawCsTransport.DataOffset;
        for (int i = 0; i < count; i++)
        {
            ulong seq = firstSequence + (ulong)i;
            sem.Wait(Items, undo: false);
            MessageCodec.Copy(_message, data + ((i & (slots - 1)) * (long)size), size);
            sem.Release(FreeSlots, undo: false);
            if (!MessageCodec.Verify(_message, size, seq))
            {
                Fail(workload, seq, "sequence, trailer or checksum");
            }
        }

        return Stopwatch.GetTimestamp();
    }

    internal override long PeerRun(BenchWorkload workload, int count, ulong firstSequence)
    {
        using var lease = _attachment!.Acquire();
        byte* b = (byte*)lease.Address;
        var sem = _semaphores!;
        if (workload == BenchWorkload.Rtt64)
        {
            var signals = new Signals(sem);
            ulong bad = HandOffPingPong.Peer(ref signals, (ulong*)(b + RawCsTransport.PingOffset), (ulong*)(b + RawCsTransport.PongOffset), firstSequence, count);
            if (bad != 0)
            {
                Fail(workload, bad, "the ping carries another sequence number");
            }

            return 0;
        }

        if (workload == BenchWorkload.Lock2P)
        {
            var step = new LockStep(sem);
            return LockWorkload.PeerRun(ref step, (LockWords*)(b + LockWordsOffset), count, firstSequence);
        }

        int size = workload.MessageSize();
        int slots = RawCsTransport.RingBytes(size) / size;
        byte* data = b + RawCsTransport.DataOffset;
        ulong middle = MessageCodec.Prepare(_message, size);
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            MessageCodec.Stamp(_message, size, firstSequence + (ulong)i, middle);
            sem.Wait(FreeSlots, undo: false);
            MessageCodec.Copy(data + ((i & (slots - 1)) * (long)size), _message, size);
            sem.Release(Items, undo: false);
        }

        return start;
    }

    /// <summary>lock-2p: the increments must add up (the peer has answered, so its last unlock is done).</summary>
    internal override void CompleteRound(BenchWorkload workload, int count, long peerResult)
    {
        if (workload != BenchWorkload.Lock2P)
        {
            return;
        }

        using var lease = _attachment!.Acquire();
        LastHostShare = LockWorkload.Verify((LockWords*)((byte*)lease.Address + LockWordsOffset), count, _hostIncrements, peerResult, Name);
    }

    protected override void Dispose(bool disposing)
    {
        _attachment?.Dispose();
        byte* message = _message;
        _message = null;
        if (message is not null)
        {
            NativeMemory.AlignedFree(message);
        }
    }

    /// <summary>The ping-pong's hand-offs: semaphores 0 (ping ready) and 1 (pong ready), no SEM_UNDO.</summary>
    private readonly struct Signals(SemaphoreSet set) : IHandOffSignals
    {
        public void SendPing() => set.Release(PingReady, undo: false);

        public void AwaitPong() => set.Wait(PongReady, undo: false);

        public void AwaitPing() => set.Wait(PingReady, undo: false);

        public void SendPong() => set.Release(PongReady, undo: false);
    }

    /// <summary>lock-2p's operation with the SEM_UNDO lock, as a user writes it.</summary>
    private readonly struct LockStep(SemaphoreSet set) : ILockedIncrement
    {
        public bool Step(LockWords* words, ulong limit)
        {
            using (set.Lock(Lock))
            {
                return LockWorkload.IncrementUnderLock(words, limit);
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Attach()
    {
        _attachment = _segment!.Attach();
        _message = (byte*)NativeMemory.AlignedAlloc(1 << 20, 64);
        new Span<byte>(_message, 1 << 20).Clear();
    }
}
