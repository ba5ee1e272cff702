using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace ShmKit.Bench;

/// <summary>
/// sysv-mq: one System V message queue (<see cref="MessageQueue"/>); type 1 carries pings and data, type 2 the pongs.
/// Blocking msgsnd/msgrcv (no timeout: a timed wait polls, since the kernel has no timed msgrcv); a dead peer or Ctrl-C
/// removes the queue, which ends a blocked call with EIDRM. Only 64 B and 4 KiB: msgmax is 8192 here.
/// </summary>
internal sealed unsafe class SysVMqTransport : BenchTransport
{
    private const long DataType = 1;
    private const long PongType = 2;
    private const int BufferSize = 8192;

    private MessageQueue? _queue;
    private byte* _send;
    private byte* _receive;

    internal override string Name => "sysv-mq";

    internal override bool Supports(BenchWorkload workload) => workload.MovesMessages() && workload.MessageSize() <= 4096;

    internal override string PrepareHost(BenchCleanup cleanup)
    {
        _queue = MessageQueue.CreatePrivate();
        var queue = _queue;
        cleanup.Add("sysv-mq queue", () => RemoveQuietly(queue.Remove));
        Allocate();
        return _queue.Id.ToString(CultureInfo.InvariantCulture);
    }

    internal override void RemoveOrphanedObjects() => RemoveQuietly(_queue!.Remove);

    internal override void ConnectPeer(string setup)
    {
        _queue = MessageQueue.OpenById(int.Parse(setup, CultureInfo.InvariantCulture));
        Allocate();
    }

    internal override long HostRun(BenchWorkload workload, int count, ulong firstSequence, long[] roundTrips)
    {
        var queue = _queue!;
        if (workload == BenchWorkload.Rtt64)
        {
            ulong middle = MessageCodec.Prepare(_send, 64);
            var send = new ReadOnlySpan<byte>(_send, 64);
            var receive = new Span<byte>(_receive, BufferSize);
            long first = Stopwatch.GetTimestamp();
            long previous = first;
            for (int i = 0; i < count; i++)
            {
                ulong seq = firstSequence + (ulong)i;
                MessageCodec.Stamp(_send, 64, seq, middle);
                queue.Send(DataType, send);
                int length = queue.Receive(receive, out _, PongType);
                if (length != 64 || *(ulong*)_receive != seq)
                {
                    Fail(workload, seq, "the answer carries another sequence number or length");
                }

                long now = Stopwatch.GetTimestamp();
                roundTrips[i] = now - previous;
                previous = now;
            }

            return previous - first;
        }

        int size = workload.MessageSize();
        var buffer = new Span<byte>(_receive, BufferSize);
        for (int i = 0; i < count; i++)
        {
            ulong seq = firstSequence + (ulong)i;
            int length = queue.Receive(buffer, out _, DataType);
            if (length != size || !MessageCodec.Verify(_receive, size, seq))
            {
                Fail(workload, seq, "length, sequence, trailer or checksum");
            }
        }

        return Stopwatch.GetTimestamp();
    }

    internal override long PeerRun(BenchWorkload workload, int count, ulong firstSequence)
    {
        var queue = _queue!;
        if (workload == BenchWorkload.Rtt64)
        {
            var receive = new Span<byte>(_receive, BufferSize);
            for (int i = 0; i < count; i++)
            {
                ulong seq = firstSequence + (ulong)i;
                int length = queue.Receive(receive, out _, DataType);
                if (length != 64 || *(ulong*)_receive != seq)
                {
                    Fail(workload, seq, "the ping carries another sequence number or length");
                }

                queue.Send(PongType, receive[..64]);
            }

            return 0;
        }

        int size = workload.MessageSize();
        ulong middle = MessageCodec.Prepare(_send, size);
        var message = new ReadOnlySpan<byte>(_send, size);
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            MessageCodec.Stamp(_send, size, firstSequence + (ulong)i, middle);
            queue.Send(DataType, message);
        }

        return start;
    }

    protected override void Dispose(bool disposing)
    {
        byte* send = _send;
        byte* receive = _receive;
        _send = null;
        _receive = null;
        if (send is not null)
        {
            NativeMemory.AlignedFree(send);
            NativeMemory.AlignedFree(receive);
        }
    }

    private void Allocate()
    {
        _send = (byte*)NativeMemory.AlignedAlloc(BufferSize, 64);
        _receive = (byte*)NativeMemory.AlignedAlloc(BufferSize, 64);
        new Span<byte>(_send, BufferSize).Clear();
        new Span<byte>(_receive, BufferSize).Clear();
    }
}
