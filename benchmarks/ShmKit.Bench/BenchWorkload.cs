namespace ShmKit.Bench;

/// <summary>
/// The workloads, identical for every transport that carries them: four that move messages (every transport but the
/// lock-only ones) and one that contends on a lock (the transports that have a cross-process lock).
/// </summary>
internal enum BenchWorkload
{
    /// <summary>Round-trip latency of a 64-byte ping-pong; both sides check the sequence number of every message.</summary>
    Rtt64,

    /// <summary>One-way throughput of 64-byte messages, producer (peer) to consumer (host), every message verified.</summary>
    Tput64,

    /// <summary>One-way throughput of 4 KiB messages.</summary>
    Tput4K,

    /// <summary>One-way throughput of 1 MiB messages.</summary>
    Tput1M,

    /// <summary>
    /// Two processes increment one plain counter in shared memory under a cross-process lock until it reaches the
    /// round's count: lock + increment + unlock operations per second; the counter must come out exact.
    /// </summary>
    Lock2P,
}

/// <summary>Names, units and message sizes of <see cref="BenchWorkload"/>.</summary>
internal static class BenchWorkloads
{
    /// <summary>Every workload, in table (and round) order.</summary>
    internal static readonly BenchWorkload[] All = [BenchWorkload.Rtt64, BenchWorkload.Tput64, BenchWorkload.Tput4K, BenchWorkload.Tput1M, BenchWorkload.Lock2P];

    /// <summary>The names, in table order (what <c>--only</c> accepts besides transport names).</summary>
    internal static readonly string[] Names = [.. All.Select(w => w.Name())];

    internal static string Name(this BenchWorkload workload) => workload switch
    {
        BenchWorkload.Rtt64 => "rtt-64",
        BenchWorkload.Tput64 => "tput-64",
        BenchWorkload.Tput4K => "tput-4k",
        BenchWorkload.Tput1M => "tput-1m",
        _ => "lock-2p",
    };

    internal static BenchWorkload Parse(string name) => name switch
    {
        "rtt-64" => BenchWorkload.Rtt64,
        "tput-64" => BenchWorkload.Tput64,
        "tput-4k" => BenchWorkload.Tput4K,
        "tput-1m" => BenchWorkload.Tput1M,
        "lock-2p" => BenchWorkload.Lock2P,
        _ => throw new FormatException($"Unknown workload '{name}'."),
    };

    /// <summary>
    /// The JSON unit: microseconds per round trip, messages per second, 10^9 payload bytes per second, or lock
    /// operations (lock + increment + unlock) per second.
    /// </summary>
    internal static string Unit(this BenchWorkload workload) => workload switch
    {
        BenchWorkload.Rtt64 => "us",
        BenchWorkload.Tput64 => "msg/s",
        BenchWorkload.Lock2P => "ops/s",
        _ => "GB/s",
    };

    /// <summary>True for the workloads that move messages (all but lock-2p).</summary>
    internal static bool MovesMessages(this BenchWorkload workload) => workload != BenchWorkload.Lock2P;

    /// <summary>The message size in bytes (message workloads only).</summary>
    internal static int MessageSize(this BenchWorkload workload) => workload switch
    {
        BenchWorkload.Rtt64 or BenchWorkload.Tput64 => 64,
        BenchWorkload.Tput4K => 4096,
        BenchWorkload.Tput1M => 1 << 20,
        _ => throw new ArgumentOutOfRangeException(nameof(workload), workload, "lock-2p moves no messages."),
    };

    /// <summary>True for latency (smaller is better); false for throughput (larger is better).</summary>
    internal static bool IsLatency(this BenchWorkload workload) => workload == BenchWorkload.Rtt64;
}
