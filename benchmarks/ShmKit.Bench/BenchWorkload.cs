namespace ShmKit.Bench;

/// <summary>The four workloads every transport runs, identically.</summary>
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
}

/// <summary>Names, units and message sizes of <see cref="BenchWorkload"/>.</summary>
internal static class BenchWorkloads
{
    internal static readonly BenchWorkload[] All = [BenchWorkload.Rtt64, BenchWorkload.Tput64, BenchWorkload.Tput4K, BenchWorkload.Tput1M];

    internal static string Name(this BenchWorkload workload) => workload switch
    {
        BenchWorkload.Rtt64 => "rtt-64",
        BenchWorkload.Tput64 => "tput-64",
        BenchWorkload.Tput4K => "tput-4k",
        _ => "tput-1m",
    };

    internal static BenchWorkload Parse(string name) => name switch
    {
        "rtt-64" => BenchWorkload.Rtt64,
        "tput-64" => BenchWorkload.Tput64,
        "tput-4k" => BenchWorkload.Tput4K,
        "tput-1m" => BenchWorkload.Tput1M,
        _ => throw new FormatException($"Unknown workload '{name}'."),
    };

    /// <summary>The JSON unit: microseconds per round trip, messages per second, or 10^9 payload bytes per second.</summary>
    internal static string Unit(this BenchWorkload workload) => workload switch
    {
        BenchWorkload.Rtt64 => "us",
        BenchWorkload.Tput64 => "msg/s",
        _ => "GB/s",
    };

    /// <summary>The message size in bytes.</summary>
    internal static int MessageSize(this BenchWorkload workload) => workload switch
    {
        BenchWorkload.Rtt64 or BenchWorkload.Tput64 => 64,
        BenchWorkload.Tput4K => 4096,
        _ => 1 << 20,
    };

    /// <summary>True for latency (smaller is better); false for throughput (larger is better).</summary>
    internal static bool IsLatency(this BenchWorkload workload) => workload == BenchWorkload.Rtt64;
}
