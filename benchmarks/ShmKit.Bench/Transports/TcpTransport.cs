using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ShmKit.Bench;

/// <summary>tcp: loopback 127.0.0.1, an ephemeral port, TCP_NODELAY on both ends.</summary>
internal sealed class TcpTransport : SocketTransportBase
{
    internal override string Name => "tcp";

    internal override string PrepareHost(BenchCleanup cleanup)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        Listen(listener);
        return ((IPEndPoint)listener.LocalEndPoint!).Port.ToString(CultureInfo.InvariantCulture);
    }

    internal override void ConnectPeer(string setup)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(new IPEndPoint(IPAddress.Loopback, int.Parse(setup, CultureInfo.InvariantCulture)));
        Use(socket);
    }

    protected override void Configure(Socket connection) => connection.NoDelay = true;
}
