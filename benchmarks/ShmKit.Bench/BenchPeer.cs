using System.Globalization;

namespace ShmKit.Bench;

/// <summary>
/// The peer process (this program started again with the hidden <c>peer</c> command): the ponger and producer of
/// every .NET transport. It reads one command per line on stdin and answers on stdout:
/// <c>run NAME WORKLOAD COUNT FIRSTSEQ</c> → <c>ok VALUE</c> (what <see cref="BenchTransport.PeerRun"/> returned: the
/// Stopwatch timestamp before the first message, 0 for rtt-64, the peer's increments for lock-2p) or
/// <c>fail REASON</c>; <c>quit</c> ends it. It exits by itself when stdin closes or the parent process disappears.
/// </summary>
internal static class BenchPeer
{
    private static readonly Lock s_orphanGate = new();
    private static bool s_orphansRemoved; // guarded by s_orphanGate

    /// <summary>Runs the peer. Arguments: <c>parent=PID cpu=N dir=TEMPDIR NAME=SETUP...</c>.</summary>
    internal static int Run(IReadOnlyList<string> args)
    {
        int parent = 0;
        int cpu = -1;
        string? directory = null;
        var specs = new List<(string Name, string Setup)>();
        foreach (string arg in args)
        {
            int eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                Console.Error.WriteLine($"shmkit-bench peer: bad argument '{arg}'.");
                return 2;
            }

            string key = arg[..eq];
            string value = arg[(eq + 1)..];
            switch (key)
            {
                case "parent":
                    parent = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "cpu":
                    cpu = int.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "dir":
                    directory = value;
                    break;
                default:
                    specs.Add((key, value));
                    break;
            }
        }

        var transports = new Dictionary<string, BenchTransport>(StringComparer.Ordinal);
        BenchAbort.ThrowIfAborted(); // initializes BenchAbort before any hot loop is compiled (its Flag is then a JIT constant)
        string pinned = "0 not asked";
        if (cpu >= 0)
        {
            pinned = CpuAffinity.TryPinCurrentThread(cpu, out string? reason) ? "1" : "0 " + reason;
        }

        try
        {
            foreach (var (name, setup) in specs)
            {
                var transport = BenchTransports.Create(name, string.Empty, -1, -1);
                lock (transports)
                {
                    transports[name] = transport;
                }

                transport.ConnectPeer(setup);
            }

            // Only now, with every transport connected, so that an orphaned peer removes all of them (a host that died
            // during the connects made one of them fail: the finally below cleans up for it).
            StartParentWatchdog(parent, () => RemoveOrphans(transports, directory));
            Console.Out.WriteLine("ready " + pinned);
            while (true)
            {
                string? line = Console.In.ReadLine();
                if (line is null)
                {
                    // End of stdin without "quit": the host is gone (killed) and cleaned up nothing.
                    RemoveOrphans(transports, directory);
                    return 3;
                }

                string[] parts = line.Split(' ');
                if (parts[0] == "quit")
                {
                    break;
                }

                try
                {
                    var transport = transports[parts[1]];
                    var workload = BenchWorkloads.Parse(parts[2]);
                    int count = int.Parse(parts[3], CultureInfo.InvariantCulture);
                    ulong first = ulong.Parse(parts[4], CultureInfo.InvariantCulture);
                    long start = transport.PeerRun(workload, count, first);
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ok {start}"));
                }
#pragma warning disable CA1031 // Any failure of a round goes back to the host, which reports it and stops.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    if (!SelfProcess.ParentAlive(parent))
                    {
                        // The round failed because the host died mid-round (a broken pipe or socket): clean up for it.
                        RemoveOrphans(transports, directory);
                        return 3;
                    }

                    Console.Out.WriteLine("fail " + ex.GetType().Name + ": " + ex.Message.ReplaceLineEndings(" "));
                    return 1;
                }
            }

            return 0;
        }
        finally
        {
            if (!SelfProcess.ParentAlive(parent))
            {
                RemoveOrphans(transports, directory); // any other way out after the host died (idempotent)
            }

            foreach (var transport in transports.Values)
            {
                transport.Dispose();
            }
        }
    }

    /// <summary>The host died without cleaning up (SIGKILL): remove what outlives both processes, then exit.</summary>
    private static void RemoveOrphans(Dictionary<string, BenchTransport> transports, string? directory)
    {
        // The watchdog and the main thread may both get here. The second must wait for the first to finish, not
        // return at once: returning lets the main thread end the process while the watchdog is still removing.
        lock (s_orphanGate)
        {
            if (s_orphansRemoved)
            {
                return;
            }

            RemoveOrphansOnce(transports, directory);
            s_orphansRemoved = true;
        }
    }

    private static void RemoveOrphansOnce(Dictionary<string, BenchTransport> transports, string? directory)
    {

        BenchTransport[] all;
        lock (transports)
        {
            all = [.. transports.Values];
        }

        foreach (var transport in all)
        {
            try
            {
                transport.RemoveOrphanedObjects();
            }
#pragma warning disable CA1031 // Best effort on the way out: go on with the next object.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Console.Error.WriteLine($"shmkit-bench peer: could not remove the objects of {transport.Name}: {ex.Message}");
            }
        }

        if (directory is not null && Directory.Exists(directory))
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>
    /// When the parent is gone: removes the orphaned objects and exits, so a killed host leaves neither a peer nor a
    /// semaphore set, queue or temp directory.
    /// </summary>
    private static void StartParentWatchdog(int parent, Action onOrphaned) =>
        SelfProcess.WatchParent(parent, () =>
        {
            // Clean up first, then stop the loops: once they stop, the peer's main thread may return and end the
            // process while this (background) thread is still removing things.
            onOrphaned();
            BenchAbort.Abort("the parent process exited");
            Environment.Exit(3);
        });
}
