using System.Diagnostics;
using System.Globalization;

namespace ShmKit.Bench;

/// <summary>
/// raw-c: the limit of shared-memory IPC on this machine. A minimal C program (Transports/rawc.c, embedded in this
/// assembly, compiled with gcc -O3 into the run's temp directory, deleted afterwards) forks itself; parent and child
/// share a SysV segment (removed right after shmat) and run the same busy-spin ping-pong and SPSC ring as
/// <see cref="RawCsTransport"/>, with the same message format and verification. For lock-2p the two processes increment one counter in the segment under a
/// process-shared robust pthread mutex (PTHREAD_PROCESS_SHARED + PTHREAD_MUTEX_ROBUST, EOWNERDEAD handled with
/// pthread_mutex_consistent), the twin of <see cref="LockWorkload"/>; the C side owns the mutex (40 bytes on x86-64
/// glibc, 48 on aarch64: a static assert checks that it fits its 128-byte block). One program run per round, so its
/// rounds interleave with the other transports. Skipped, with a note, where gcc is missing.
/// </summary>
internal sealed class RawCTransport(string directory, int hostCpu, int peerCpu) : BenchTransport
{
    private const string SourceResource = "rawc.c";

    /// <summary>
    /// The C source, Transports/rawc.c, embedded in this assembly (see the header comment in it for its arguments and
    /// output).
    /// </summary>
    internal static string Source
    {
        get
        {
            using var stream = typeof(RawCTransport).Assembly.GetManifestResourceStream(SourceResource)
                ?? throw new InvalidOperationException("The C source (" + SourceResource + ") is not embedded in " + typeof(RawCTransport).Assembly.GetName().Name + ".");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
    }

    private readonly string _executable = Path.Combine(directory, "rawc");
    private readonly string _roundTripsFile = Path.Combine(directory, "rawc-rtt.bin");
    private string? _unavailable = FindGcc() is null ? "gcc not found on PATH: the C reference row is skipped" : null;

    internal override string Name => "raw-c";

    internal override bool IsSpin => true;

    internal override bool UsesPeer => false;

    internal override bool Supports(BenchWorkload workload) => true;

    internal override string? Unavailable => _unavailable;

    /// <summary>Whether both C processes could be pinned in the last round.</summary>
    internal bool LastPinned { get; private set; }

    /// <summary>Compiles the program (the runner calls this instead of starting a peer).</summary>
    internal override string PrepareHost(BenchCleanup cleanup)
    {
        string source = Path.Combine(directory, "rawc.c");
        File.WriteAllText(source, Source);
        var info = new ProcessStartInfo(FindGcc()!, ["-O3", "-march=native", "-pthread", "-o", _executable, source])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var gcc = Process.Start(info)!;
        string errors = gcc.StandardError.ReadToEnd();
        gcc.StandardOutput.ReadToEnd();
        if (!gcc.WaitForExit(60_000) || gcc.ExitCode != 0)
        {
            _unavailable = "gcc failed to compile the C reference: " + errors.Trim();
        }

        return string.Empty;
    }

    internal override void ConnectPeer(string setup) => throw new NotSupportedException("raw-c does not run in the .NET peer.");

    /// <summary>Runs one round in a fresh pair of C processes. Returns the elapsed Stopwatch ticks of the timed part.</summary>
    internal override long HostRun(BenchWorkload workload, int count, ulong firstSequence, long[] roundTrips)
    {
        string cpuA = hostCpu.ToString(CultureInfo.InvariantCulture);
        string cpuB = peerCpu.ToString(CultureInfo.InvariantCulture);
        string n = count.ToString(CultureInfo.InvariantCulture);
        string[] args;
        if (workload == BenchWorkload.Lock2P)
        {
            // In-program warm-up: a tenth of the count (the first futex waits, the pages of the segment).
            string warmOps = Math.Max(count / 10, 1000).ToString(CultureInfo.InvariantCulture);
            args = ["lock", n, warmOps, cpuA, cpuB];
        }
        else
        {
            int size = workload.MessageSize();
            // In-program warm-up: a tenth of the count, at least two passes over the ring (first touch of its pages).
            int ringSlots = RawCsTransport.RingBytes(size) / size;
            string warm = Math.Max(count / 10, workload == BenchWorkload.Rtt64 ? 1000 : 2 * ringSlots).ToString(CultureInfo.InvariantCulture);
            args = workload == BenchWorkload.Rtt64
                ? ["rtt", n, warm, cpuA, cpuB, _roundTripsFile]
                : ["tput", size.ToString(CultureInfo.InvariantCulture), n, warm, cpuA, cpuB];
        }

        var info = new ProcessStartInfo(_executable, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        string output;
        string errors;
        using (var process = Process.Start(info)!)
        {
            var errorsTask = process.StandardError.ReadToEndAsync();
            output = process.StandardOutput.ReadToEnd().Trim();
            if (!process.WaitForExit(130_000))
            {
                process.Kill();
            }

            errors = errorsTask.GetAwaiter().GetResult();
        }

        string[] parts = output.Split(' ');
        int expected = workload == BenchWorkload.Lock2P ? 4 : 3;
        if (parts.Length != expected || parts[0] != "ok")
        {
            BenchAbort.ThrowIfAborted();
            throw new BenchVerificationException($"raw-c {workload.Name()}: the C program failed: {output} {errors}".Trim());
        }

        LastPinned = parts[2] == "1";
        long elapsedNs = long.Parse(parts[1], CultureInfo.InvariantCulture);
        // lock-2p: the C program verified the counter itself; the parent's increments give the split.
        LastHostShare = workload == BenchWorkload.Lock2P ? long.Parse(parts[3], CultureInfo.InvariantCulture) / (double)count : null;
        if (workload == BenchWorkload.Rtt64)
        {
            byte[] raw = File.ReadAllBytes(_roundTripsFile);
            File.Delete(_roundTripsFile);
            var ns = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(raw);
            for (int i = 0; i < count && i < ns.Length; i++)
            {
                roundTrips[i] = NanosecondsToTicks(ns[i]);
            }
        }

        return NanosecondsToTicks(elapsedNs);
    }

    internal override long PeerRun(BenchWorkload workload, int count, ulong firstSequence) => throw new NotSupportedException("raw-c does not run in the .NET peer.");

    protected override void Dispose(bool disposing)
    {
    }

    private static long NanosecondsToTicks(long ns) =>
        Stopwatch.Frequency == 1_000_000_000 ? ns : (long)(ns * (Stopwatch.Frequency / 1e9));

    private static string? FindGcc()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, "gcc");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
