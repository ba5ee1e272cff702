using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ShmKit.Bench;

/// <summary>
/// The workloads over a byte stream (pipe, Unix socket, TCP): one blocking write of each message, one blocking
/// "read exactly n bytes" (which is one read() whenever the kernel has the whole message). The same two native
/// buffers are reused for every message: nothing is allocated per message.
/// </summary>
internal abstract unsafe class StreamTransportBase : BenchTransport
{
    private const int BufferSize = 1 << 20;
    private byte* _send;
    private byte* _receive;

    /// <summary>Writes every byte of <paramref name="data"/> (blocking).</summary>
    protected abstract void Write(ReadOnlySpan<byte> data);

    /// <summary>Reads exactly <c>data.Length</c> bytes (blocking); throws <see cref="EndOfStreamException"/> if the other side closed.</summary>
    protected abstract void ReadExactly(Span<byte> data);

    internal override long HostRun(BenchWorkload workload, int count, ulong firstSequence, long[] roundTrips)
    {
        EnsureBuffers();
        if (workload == BenchWorkload.Rtt64)
        {
            ulong middle = MessageCodec.Prepare(_send, 64);
            var send = new ReadOnlySpan<byte>(_send, 64);
            var receive = new Span<byte>(_receive, 64);
            long first = Stopwatch.GetTimestamp();
            long previous = first;
            for (int i = 0; i < count; i++)
            {
                ulong seq = firstSequence + (ulong)i;
                MessageCodec.Stamp(_send, 64, seq, middle);
                Write(send);
                ReadExactly(receive);
                if (*(ulong*)_receive != seq)
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
        var buffer = new Span<byte>(_receive, size);
        for (int i = 0; i < count; i++)
        {
            ulong seq = firstSequence + (ulong)i;
            ReadExactly(buffer);
            if (!MessageCodec.Verify(_receive, size, seq))
            {
                Fail(workload, seq, "sequence, trailer or checksum");
            }
        }

        return Stopwatch.GetTimestamp();
    }

    internal override long PeerRun(BenchWorkload workload, int count, ulong firstSequence)
    {
        EnsureBuffers();
        if (workload == BenchWorkload.Rtt64)
        {
            var receive = new Span<byte>(_receive, 64);
            for (int i = 0; i < count; i++)
            {
                ulong seq = firstSequence + (ulong)i;
                ReadExactly(receive);
                if (*(ulong*)_receive != seq)
                {
                    Fail(workload, seq, "the ping carries another sequence number");
                }

                Write(receive); // echo the ping
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
            Write(message);
        }

        return start;
    }

    protected override void Dispose(bool disposing)
    {
        FreeBuffers();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EnsureBuffers()
    {
        if (_send is null)
        {
            _send = (byte*)NativeMemory.AlignedAlloc(BufferSize, 64);
            _receive = (byte*)NativeMemory.AlignedAlloc(BufferSize, 64);
            new Span<byte>(_send, BufferSize).Clear();
            new Span<byte>(_receive, BufferSize).Clear();
        }
    }

    private void FreeBuffers()
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
}
