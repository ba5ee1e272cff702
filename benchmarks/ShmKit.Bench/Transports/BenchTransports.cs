namespace ShmKit.Bench;

/// <summary>The transports, in table order, by name.</summary>
internal static class BenchTransports
{
    internal static readonly string[] Names = ["raw-c", "raw-cs", "shm-semaphore", "pipe", "unix-socket", "tcp", "sysv-mq"];

    /// <summary>Creates a transport. <paramref name="directory"/> is the run's temp directory (host side; unused in the peer).</summary>
    internal static BenchTransport Create(string name, string directory, int hostCpu, int peerCpu) => name switch
    {
        "raw-c" => new RawCTransport(directory, hostCpu, peerCpu),
        "raw-cs" => new RawCsTransport(),
        "shm-semaphore" => new ShmSemaphoreTransport(),
        "pipe" => new PipeTransport(),
        "unix-socket" => new UnixSocketTransport(directory),
        "tcp" => new TcpTransport(),
        "sysv-mq" => new SysVMqTransport(),
        _ => throw new ArgumentException($"Unknown transport '{name}'. Known: {string.Join(", ", Names)}.", nameof(name)),
    };
}
