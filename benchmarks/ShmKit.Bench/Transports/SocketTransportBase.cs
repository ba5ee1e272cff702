using System.Net.Sockets;

namespace ShmKit.Bench;

/// <summary>A connected stream socket used with blocking Send/Receive over spans (no per-message allocation).</summary>
internal abstract class SocketTransportBase : StreamTransportBase
{
    private Socket? _listener;
    private Socket? _connection;

    /// <summary>Host side: listens (before the peer starts); the peer's connect completes from the backlog.</summary>
    protected void Listen(Socket listener) => _listener = listener;

    /// <summary>Peer side, or host side after Accept: the connection to use.</summary>
    protected void Use(Socket connection) => _connection = connection;

    internal override void ConnectHost()
    {
        using var listener = _listener!;
        _listener = null;
        _connection = listener.Accept();
        Configure(_connection);
    }

    /// <summary>Per-connection options (TCP_NODELAY for TCP).</summary>
    protected virtual void Configure(Socket connection)
    {
    }

    protected override void Write(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            data = data[_connection!.Send(data, SocketFlags.None)..];
        }
    }

    protected override void ReadExactly(Span<byte> data)
    {
        while (!data.IsEmpty)
        {
            int n = _connection!.Receive(data, SocketFlags.None);
            if (n == 0)
            {
                throw new EndOfStreamException($"{Name}: the other side closed the connection.");
            }

            data = data[n..];
        }
    }

    protected override void Dispose(bool disposing)
    {
        _listener?.Dispose();
        _connection?.Dispose();
        base.Dispose(disposing);
    }
}
