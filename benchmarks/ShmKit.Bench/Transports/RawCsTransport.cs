using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ShmKit.Bench;

/// <summary>
/// raw-cs: the C program's busy-spin ping-pong and SPSC ring, written in C# on raw shared memory (a
/// <see cref="SharedMemorySegment"/> and the <see cref="SharedMemoryLease.Address"/> of one lease held for the whole
/// run, no further ShmKit structure).
/// It shows what .NET itself costs against raw-c, so it must do exactly what the C does.
/// </summary>
/// <remarks>
/// <para>Segment layout. Every shared field has its own 128-byte block: x86's adjacent-line prefetcher pulls cache
/// lines in pairs, so fields only 64 bytes apart would still bounce together (false sharing).</para>
/// <list type="bullet">
/// <item><c>[0]</c> ping line, 8 words. Written by the pinger (host): words 0..6 with plain stores, then word 7 = sequence
/// with <see cref="Volatile.Write(ref ulong, ulong)"/> (release: the payload stores become visible no later than it).
/// Read by the ponger (peer): <see cref="Volatile.Read(ref ulong)"/> of word 7 (acquire) until it equals the expected
/// sequence, then words 0..6. Mid-update the ponger may see new payload words with an old word 7; it ignores them until
/// word 7 changes, and the pinger does not write again before the answer, so it never sees a half-new message it accepts.</item>
/// <item><c>[128]</c> pong line: the same protocol in the other direction (ponger writes, pinger reads).</item>
/// <item><c>[256]</c> head: the count of messages the producer (peer) has published. Written only by the producer with
/// a release store after the message's bytes are in the slot; read by the consumer with an acquire load. An aligned
/// 8-byte store is atomic, so a reader sees the old or the new value, never a mix.</item>
/// <item><c>[384]</c> tail: the count of messages the consumer (host) has copied out. Written only by the consumer with a
/// release store after its copy finished (so the producer never overwrites a slot being read); read by the producer
/// with an acquire load.</item>
/// <item><c>[4096]</c> ring: <c>slots</c> x message size bytes; slot = index mod slots. 256 KiB for 64 B and 4 KiB
/// messages, 4 MiB for 1 MiB messages (as in machine-limits.md).</item>
/// </list>
/// <para>Each side keeps a private copy of the other side's index and re-reads the shared one only when the ring looks
/// full (producer) or empty (consumer); each message publishes its index once. Head and tail only grow, across rounds.</para>
/// <para>The hot loops are <see cref="MethodImplOptions.AggressiveOptimization"/> (fully optimized at first call, no
/// tier-0 code or on-stack replacement in a timed round) and use raw pointers (no bounds checks).</para>
/// </remarks>
internal sealed unsafe class RawCsTransport : BenchTransport
{
    internal const int PingOffset = 0;
    internal const int PongOffset = 128;
    internal const int HeadOffset = 256;
    internal const int TailOffset = 384;
    internal const int DataOffset = 4096;
    internal const int SmallRingBytes = 256 * 1024;
    internal const int LargeRingBytes = 4 * 1024 * 1024;
    internal const int SegmentSize = DataOffset + LargeRingBytes;

    private SharedMemorySegment? _segment;
    private SharedMemoryAttachment? _attachment;
    private byte* _message;

    internal override string Name => "raw-cs";

    internal override bool IsSpin => true;

    /// <summary>Ring size for a message size: 256 KiB, or 4 MiB for 1 MiB messages.</summary>
    internal static int RingBytes(int messageSize) => messageSize >= 1 << 20 ? LargeRingBytes : SmallRingBytes;

    internal override string PrepareHost(BenchCleanup cleanup)
    {
        _segment = SharedMemorySegment.CreatePrivate(SegmentSize);
        var segment = _segment;
        cleanup.Add("raw-cs segment", () => RemoveQuietly(segment.Remove));
        Attach();
        return _segment.Id.ToString(CultureInfo.InvariantCulture);
    }

    internal override void PeerReady() => _segment!.Remove(); // both sides attached: gone at the last detach, even after SIGKILL

    internal override void ConnectPeer(string setup)
    {
        _segment = SharedMemorySegment.OpenById(int.Parse(setup, CultureInfo.InvariantCulture));
        Attach();
    }

    internal override long HostRun(BenchWorkload workload, int count, ulong firstSequence, long[] roundTrips)
    {
        using var lease = _attachment!.Acquire(); // one reference for the whole run: the mapping cannot go under the loops
        byte* b = (byte*)lease.Address;
        if (workload == BenchWorkload.Rtt64)
        {
            fixed (long* deltas = roundTrips)
            {
                ulong bad = Ping((ulong*)(b + PingOffset), (ulong*)(b + PongOffset), firstSequence, count, deltas, out long total);
                if (bad != 0)
                {
                    Fail(workload, bad, "the answer's payload does not carry the sequence number");
                }

                return total;
            }
        }

        int size = workload.MessageSize();
        ulong failed = Consume(b + DataOffset, (ulong*)(b + HeadOffset), (ulong*)(b + TailOffset), _message, size, RingBytes(size) / size, count, firstSequence, out long end);
        if (failed == ulong.MaxValue)
        {
            BenchAbort.ThrowIfAborted();
        }

        if (failed != 0)
        {
            Fail(workload, failed, "sequence, trailer or checksum");
        }

        return end;
    }

    internal override long PeerRun(BenchWorkload workload, int count, ulong firstSequence)
    {
        using var lease = _attachment!.Acquire();
        byte* b = (byte*)lease.Address;
        if (workload == BenchWorkload.Rtt64)
        {
            Pong((ulong*)(b + PingOffset), (ulong*)(b + PongOffset), firstSequence, count);
            return 0;
        }

        int size = workload.MessageSize();
        ulong middle = MessageCodec.Prepare(_message, size); // untimed: Produce takes its start timestamp after this
        long start = Produce(b + DataOffset, (ulong*)(b + HeadOffset), (ulong*)(b + TailOffset), _message, size, RingBytes(size) / size, count, firstSequence, middle);
        if (start == -1)
        {
            BenchAbort.ThrowIfAborted();
        }

        return start;
    }

    /// <summary>
    /// The pinger: publish sequence s in the ping line, spin until the pong line carries s, time each round trip with
    /// one timestamp per iteration (the same clock call the C program makes). Returns 0, or the first bad sequence.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static ulong Ping(ulong* ping, ulong* pong, ulong firstSequence, int count, long* deltas, out long total)
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

            Volatile.Write(ref ping[7], seq); // release: publishes words 0..6 with it
            int spins = 0;
            while (Volatile.Read(ref pong[7]) != seq) // acquire: the answer's words 0..6 are complete once this matches
            {
                SpinHint.Pause();
                if (++spins == BenchAbort.CheckEvery)
                {
                    spins = 0;
                    BenchAbort.ThrowIfAborted();
                }
            }

            if (pong[0] != seq)
            {
                total = 0;
                return seq;
            }

            long now = Stopwatch.GetTimestamp();
            deltas[i] = now - previous;
            previous = now;
        }

        total = previous - first;
        return 0;
    }

    /// <summary>The ponger: wait for sequence s in the ping line, copy its payload into the pong line, publish s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Pong(ulong* ping, ulong* pong, ulong firstSequence, int count)
    {
        for (int i = 0; i < count; i++)
        {
            ulong seq = firstSequence + (ulong)i;
            int spins = 0;
            while (Volatile.Read(ref ping[7]) != seq)
            {
                SpinHint.Pause();
                if (++spins == BenchAbort.CheckEvery)
                {
                    spins = 0;
                    BenchAbort.ThrowIfAborted();
                }
            }

            for (int w = 0; w < 7; w++)
            {
                pong[w] = ping[w];
            }

            Volatile.Write(ref pong[7], seq);
        }
    }

    /// <summary>SPSC producer: stamp the private message, wait for a free slot, copy it in, publish head (release).</summary>
    /// <returns>The Stopwatch timestamp before the first message, or -1 when the run was aborted.</returns>
    internal static long Produce(byte* data, ulong* head, ulong* tail, byte* message, int size, int slots, int count, ulong firstSequence, ulong middleXor) =>
        size <= 2048 && Vector256.IsHardwareAccelerated
            ? Produce<BlockCopy>(data, head, tail, message, size, slots, count, firstSequence, middleXor)
            : Produce<LibraryCopy>(data, head, tail, message, size, slots, count, firstSequence, middleXor);

    /// <summary>SPSC consumer: wait for a message, copy it out, publish tail (release), verify the private copy.</summary>
    /// <returns>0, the sequence number of the first message that failed verification, or <see cref="ulong.MaxValue"/> when aborted.</returns>
    internal static ulong Consume(byte* data, ulong* head, ulong* tail, byte* buffer, int size, int slots, int count, ulong firstSequence, out long end) =>
        size <= 2048 && Vector256.IsHardwareAccelerated
            ? Consume<BlockCopy>(data, head, tail, buffer, size, slots, count, firstSequence, out end)
            : Consume<LibraryCopy>(data, head, tail, buffer, size, slots, count, firstSequence, out end);

    // The loops below contain no call for BlockCopy: the waits are inline and look at the abort flag with one load every
    // 2^20 spins (no throw helper), so the JIT can keep the ring index, the cached index and the counter in registers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long Produce<TCopy>(byte* data, ulong* head, ulong* tail, byte* message, int size, int slots, int count, ulong firstSequence, ulong middleXor)
        where TCopy : struct, IMessageCopy
    {
        ulong h = Volatile.Read(ref *head); // only this side writes head
        ulong cachedTail = Volatile.Read(ref *tail);
        ulong mask = (ulong)slots - 1;
        ulong capacity = (ulong)slots;
        int* abort = BenchAbort.Flag;
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            ulong seq = firstSequence + (ulong)i;
            MessageCodec.Stamp(message, size, seq, middleXor);
            if (h - cachedTail == capacity)
            {
                int spins = 0;
                while (h - (cachedTail = Volatile.Read(ref *tail)) == capacity) // acquire: the consumer is done with the slot
                {
                    SpinHint.Pause();
                    if (++spins == BenchAbort.CheckEvery)
                    {
                        spins = 0;
                        if (Volatile.Read(ref *abort) != 0)
                        {
                            return -1;
                        }
                    }
                }
            }

            TCopy.Copy(data + ((h & mask) * (ulong)size), message, size);
            Volatile.Write(ref *head, ++h); // release: the slot's bytes are visible before the new head
        }

        return start;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ulong Consume<TCopy>(byte* data, ulong* head, ulong* tail, byte* buffer, int size, int slots, int count, ulong firstSequence, out long end)
        where TCopy : struct, IMessageCopy
    {
        ulong t = Volatile.Read(ref *tail); // only this side writes tail
        ulong cachedHead = Volatile.Read(ref *head);
        ulong mask = (ulong)slots - 1;
        int* abort = BenchAbort.Flag;
        end = 0;
        for (int i = 0; i < count; i++)
        {
            ulong seq = firstSequence + (ulong)i;
            if (t == cachedHead)
            {
                int spins = 0;
                while ((cachedHead = Volatile.Read(ref *head)) == t) // acquire: the slot's bytes are complete
                {
                    SpinHint.Pause();
                    if (++spins == BenchAbort.CheckEvery)
                    {
                        spins = 0;
                        if (Volatile.Read(ref *abort) != 0)
                        {
                            return ulong.MaxValue;
                        }
                    }
                }
            }

            TCopy.Copy(buffer, data + ((t & mask) * (ulong)size), size);
            Volatile.Write(ref *tail, ++t); // release: our copy finished before the producer may reuse the slot
            if (!MessageCodec.Verify(buffer, size, seq))
            {
                return seq;
            }
        }

        end = Stopwatch.GetTimestamp();
        return 0;
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

    private void Attach()
    {
        _attachment = _segment!.Attach();
        _message = (byte*)NativeMemory.AlignedAlloc(1 << 20, 64);
        new Span<byte>(_message, 1 << 20).Clear(); // touch the private buffer once, outside any timed round
    }
}
