namespace ShmKit.Bench;

/// <summary>The transports, in table order, by name.</summary>
/// <remarks>
/// shm-mutex, shm-event and shm-event-blocking use the library's ShmMutex and ShmEvent (issue 8). Their transports are
/// written (ShmMutexTransport.cs, ShmEventTransport.cs) but compiled and registered only with the symbol
/// SHMKIT_SYNC_PRIMITIVES, which ShmKit.Bench.csproj defines once those types are on main: a transport that cannot
/// run yet is simply not listed.
/// </remarks>
internal static class BenchTransports
{
    internal static readonly string[] Names =
    [
        "raw-c", "raw-cs",
#if SHMKIT_SYNC_PRIMITIVES
        "shm-mutex", "shm-event", "shm-event-blocking",
#endif
        "shm-semaphore", "pipe", "unix-socket", "tcp", "sysv-mq",
    ];

    /// <summary>
    /// Creates a transport. <paramref name="directory"/> is the run's temp directory (host side; unused in the peer).
    /// Constructors create nothing: every kernel object and file is made in <see cref="BenchTransport.PrepareHost"/>.
    /// </summary>
    internal static BenchTransport Create(string name, string directory, int hostCpu, int peerCpu) => name switch
    {
        "raw-c" => new RawCTransport(directory, hostCpu, peerCpu),
        "raw-cs" => new RawCsTransport(),
#if SHMKIT_SYNC_PRIMITIVES
        "shm-mutex" => new ShmMutexTransport(),
        "shm-event" => new ShmEventTransport(ShmWaitStrategy.SpinThenBlock),
        "shm-event-blocking" => new ShmEventTransport(ShmWaitStrategy.Block),
#endif
        "shm-semaphore" => new ShmSemaphoreTransport(),
        "pipe" => new PipeTransport(),
        "unix-socket" => new UnixSocketTransport(directory),
        "tcp" => new TcpTransport(),
        "sysv-mq" => new SysVMqTransport(),
        _ => throw new ArgumentException($"Unknown transport '{name}'. Known: {string.Join(", ", Names)}.", nameof(name)),
    };

    /// <summary>How many of <paramref name="workloads"/> the transport carries (asks a throwaway instance).</summary>
    internal static int CountSupported(string name, IEnumerable<BenchWorkload> workloads)
    {
        using var transport = Create(name, Path.GetTempPath(), -1, -1);
        return workloads.Count(transport.Supports);
    }
}
