using System.IO.Pipes;

namespace ShmKit.Bench;

/// <summary>
/// pipe: two anonymous pipes (<see cref="AnonymousPipeServerStream"/>), host to peer and peer to host; the peer
/// opens its ends from the handle strings on its command line (<see cref="AnonymousPipeClientStream"/>). The default
/// 64 KiB pipe buffer is kept: .NET has no API for F_SETPIPE_SZ.
/// </summary>
internal sealed class PipeTransport : StreamTransportBase
{
    private AnonymousPipeServerStream? _toPeer;
    private AnonymousPipeServerStream? _fromPeer;
    private Stream? _out;
    private Stream? _in;

    internal override string Name => "pipe";

    internal override string PrepareHost(BenchCleanup cleanup)
    {
        _toPeer = new AnonymousPipeServerStream(PipeDirection.Out, HandleInheritability.Inheritable);
        _fromPeer = new AnonymousPipeServerStream(PipeDirection.In, HandleInheritability.Inheritable);
        _out = _toPeer;
        _in = _fromPeer;
        return _toPeer.GetClientHandleAsString() + "," + _fromPeer.GetClientHandleAsString();
    }

    internal override void ConnectHost()
    {
        // The peer has inherited the client ends; closing ours makes a dead peer show up as end-of-file.
        _toPeer!.DisposeLocalCopyOfClientHandle();
        _fromPeer!.DisposeLocalCopyOfClientHandle();
    }

    internal override void ConnectPeer(string setup)
    {
        string[] handles = setup.Split(',');
        _in = new AnonymousPipeClientStream(PipeDirection.In, handles[0]);
        _out = new AnonymousPipeClientStream(PipeDirection.Out, handles[1]);
    }

    protected override void Write(ReadOnlySpan<byte> data) => _out!.Write(data);

    protected override void ReadExactly(Span<byte> data) => _in!.ReadExactly(data);

    protected override void Dispose(bool disposing)
    {
        _out?.Dispose();
        _in?.Dispose();
        base.Dispose(disposing);
    }
}
