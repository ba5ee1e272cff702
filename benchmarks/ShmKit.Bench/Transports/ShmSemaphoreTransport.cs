using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ShmKit.Bench;

/// <summary>
/// shm-semaphore: shared memory for the data, a System V semaphore set (<see cref="SemaphoreSet"/>) for every
/// hand-off; the classic textbook design, which blocks in the kernel instead of spinning.
/// </summary>
/// <remarks>
/// <para>Segment layout (removed right after both sides attached): <c>[0]</c> ping line, 8 words, written by the pinger
/// (host), read by the ponger (peer); <c>[128]</c> pong line, the other way; <c>[4096]</c> the ring, written by the
/// producer (peer), read by the consumer (host), with the same slot sizes as raw-cs.</para>
/// <para>Semaphores: 0 = a ping is ready, 1 = a pong is ready, 2 = messages in the ring, 3 = free slots. All without
/// SEM_UNDO (counting hand-offs, not locks). Ordering: semop is a system call that takes the set's lock in the kernel,
/// so every plain store a process made before its Release is visible to the process whose Wait that Release satisfied;
/// no Volatile is needed on the data. A reader never looks at a line or slot before its Wait returned, so it never sees
/// one mid-update.</para>
/// </remarks>
internal sealed unsafe class ShmSemaphoreTransport : BenchTransport
{
    private const int PingReady = 0;
    private const int PongReady = 1;
    private const int Items = 2;
    private const int FreeSlots = 3;

    private SharedMemorySegment? _segment;
    private SharedMemoryAttachment? _attachment;
    private SemaphoreSet? _semaphores;
    private byte* _message;

    internal override string Name => "shm-semaphore";

    internal override string PrepareHost(BenchCleanup cleanup)
    {
        _segment = SharedMemorySegment.CreatePrivate(RawCsTransport.SegmentSize);
        var segment = _segment;
        cleanup.Add("shm-semaphore segment", () => RemoveQuietly(segment.Remove));
        _semaphores = SemaphoreSet.CreatePrivate([0, 0, 0, 0]);
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

    /// <summary>Before the command goes out: an empty ring of this round's slot count (the peer is idle now).</summary>
    internal override void PrepareRound(BenchWorkload workload)
    {
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
            ulong* ping = (ulong*)(b + RawCsTransport.PingOffset);
            ulong* pong = (ulong*)(b + RawCsTransport.PongOffset);
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
                sem.Release(PingReady, undo: false);
                sem.Wait(PongReady, undo: false);
                if (pong[7] != seq || pong[0] != seq)
                {
                    Fail(workload, seq, "the answer carries another sequence number");
                }

                long now = Stopwatch.GetTimestamp();
                roundTrips[i] = now - previous;
                previous = now;
            }

            return previous - first;
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
            ulong* ping = (ulong*)(b + RawCsTransport.PingOffset);
            ulong* pong = (ulong*)(b + RawCsTransport.PongOffset);
            for (int i = 0; i < count; i++)
            {
                ulong seq = firstSequence + (ulong)i;
                sem.Wait(PingReady, undo: false);
                if (ping[7] != seq)
                {
                    Fail(workload, seq, "the ping carries another sequence number");
                }

                for (int w = 0; w < 8; w++)
                {
                    pong[w] = ping[w];
                }

                sem.Release(PongReady, undo: false);
            }

            return 0;
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

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Attach()
    {
        _attachment = _segment!.Attach();
        _message = (byte*)NativeMemory.AlignedAlloc(1 << 20, 64);
        new Span<byte>(_message, 1 << 20).Clear();
    }
}
