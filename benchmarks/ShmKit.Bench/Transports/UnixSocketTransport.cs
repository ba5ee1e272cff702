using System.Net.Sockets;

namespace ShmKit.Bench;

/// <summary>unix-socket: a SOCK_STREAM Unix domain socket (<see cref="UnixDomainSocketEndPoint"/>) in the run's temp directory.</summary>
internal sealed class UnixSocketTransport(string directory) : SocketTransportBase
{
    private readonly string _path = Path.Combine(directory, "bench.sock");

    internal override string Name => "unix-socket";

    internal override string PrepareHost(BenchCleanup cleanup)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        cleanup.Add("unix socket file", () => File.Delete(_path));
        listener.Bind(new UnixDomainSocketEndPoint(_path));
        listener.Listen(1);
        Listen(listener);
        return _path;
    }

    internal override void PeerReady() => File.Delete(_path); // connected: the name is no longer needed

    internal override void ConnectPeer(string setup)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(setup));
        Use(socket);
    }
}
