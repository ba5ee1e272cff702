using System.Diagnostics;
using System.Globalization;

namespace ShmKit.Bench;

/// <summary>Progress of a run: one call after each round.</summary>
internal readonly record struct BenchProgress(string Transport, BenchWorkload Workload, int Round, int Rounds, bool WarmUp);

/// <summary>
/// Runs the benchmark: starts the peer (this executable again, <c>peer</c>), pins the host's benchmark thread
/// and the peer's to two different CPUs, runs one warm-up round and then the timed rounds, interleaved: for each
/// round, every workload, every transport (A B C A B C ...), so a shift of the VM's vCPU placement during the run hits
/// every transport alike instead of one. Everything created is removed at the end, on an error, on
/// <see cref="Interrupt"/> (Ctrl-C / SIGTERM) and when the peer dies.
/// </summary>
internal sealed class BenchRunner
{
    private readonly BenchSettings _settings;
    private readonly BenchCleanup _cleanup = new();
    private readonly System.Text.StringBuilder _peerErrors = new();
    private Process? _peer;
    private volatile bool _finishing;

    internal BenchRunner(BenchSettings settings) => _settings = settings;

    /// <summary>Stops a running benchmark from another thread: aborts the spin loops and removes everything.</summary>
    internal void Interrupt(string reason)
    {
        BenchAbort.Abort(reason);
        _cleanup.RunAll();
    }

    internal BenchRun Run(Action<BenchProgress>? progress = null)
    {
        var run = new BenchRun();
        var clock = Stopwatch.StartNew();
        var transports = new List<BenchTransport>();
        bool completed = false;
        try
        {
            Execute(run, transports, progress);
            completed = true;
        }
        catch (Exception) when (!BenchAbort.IsAborted && _peer is { } dead && dead.WaitForExit(1000))
        {
            // The peer died and this side noticed first (a broken pipe, a closed socket) before the peer watchdog
            // did: report the cause, the peer's death, not its symptom.
            Interrupt(string.Create(CultureInfo.InvariantCulture, $"the peer process exited with code {dead.ExitCode}"));
            throw;
        }
        finally
        {
            _finishing = true;
            if (completed)
            {
                StopPeer(); // "quit", then a kill if it does not exit within 5 s
            }
            else if (_peer is { } peer)
            {
                SelfProcess.Kill(peer); // mid-round the peer may be blocked or spinning: do not wait for it
            }

            foreach (var transport in transports)
            {
                transport.Dispose();
            }

            _cleanup.RunAll();
        }

        run.Duration = clock.Elapsed;
        return run;
    }

    private static string[] Select(IReadOnlyList<string>? only)
    {
        if (only is null || only.Count == 0)
        {
            return BenchTransports.Names;
        }

        foreach (string name in only)
        {
            if (!BenchTransports.Names.Contains(name))
            {
                throw new ArgumentException($"Unknown transport '{name}' in --only. Known: {string.Join(", ", BenchTransports.Names)}.");
            }
        }

        return [.. BenchTransports.Names.Where(only.Contains)];
    }

    private void Execute(BenchRun run, List<BenchTransport> transports, Action<BenchProgress>? progress)
    {
        var directory = Directory.CreateTempSubdirectory("shmkit-bench-");
        _cleanup.Add("temp directory " + directory.FullName, () => directory.Delete(recursive: true));

        var allowed = CpuAffinity.AllowedCpus;
        int hostCpu = allowed.Count >= 2 ? allowed[0] : -1;
        int peerCpu = allowed.Count >= 2 ? allowed[1] : -1;
        if (hostCpu < 0)
        {
            run.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"not pinned: this process may run on {allowed.Count} CPU(s), two are needed for one core per side."));
        }

        var workloads = _settings.SelectedWorkloads;
        foreach (string name in Select(_settings.Only))
        {
            var transport = BenchTransports.Create(name, directory.FullName, hostCpu, peerCpu);
            if (!workloads.Any(transport.Supports))
            {
                transport.Dispose(); // nothing to run (a lock-only transport with --only tput-64, say): not started at all
                continue;
            }

            if (transport.Unavailable is null && !transport.UsesPeer)
            {
                transport.PrepareHost(_cleanup);
            }

            if (transport.Unavailable is { } why)
            {
                run.Notes.Add($"{name} skipped: {why}");
                transport.Dispose();
                continue;
            }

            transports.Add(transport);
        }

        var peerTransports = transports.Where(t => t.UsesPeer).ToList();
        bool peerPinned = StartPeer(peerTransports, peerCpu, directory.FullName, run);

        bool hostPinned = false;
        if (hostCpu >= 0)
        {
            hostPinned = CpuAffinity.TryPinCurrentThread(hostCpu, out string? reason);
            if (!hostPinned)
            {
                run.Notes.Add("host thread not pinned: " + reason);
            }
        }

        var cells = new Dictionary<(string, BenchWorkload), BenchCell>();
        foreach (var workload in workloads)
        {
            foreach (var transport in transports.Where(t => t.Supports(workload)))
            {
                var cell = new BenchCell(transport.Name, workload) { Pinned = hostPinned && (peerPinned || !transport.UsesPeer) };
                cells[(transport.Name, workload)] = cell;
                run.Cells.Add(cell);
            }
        }

        int maxCount = transports.Count == 0 ? 0 : transports.Max(t => _settings.Count(t, BenchWorkload.Rtt64));
        long[] roundTrips = new long[maxCount];
        var nextSequence = transports.ToDictionary(t => t.Name, _ => 1UL);
        var clock = Stopwatch.StartNew();
        for (int round = 0; round <= _settings.Rounds; round++)
        {
            if (round >= 2 && clock.Elapsed > _settings.TimeBudget)
            {
                run.Notes.Add(string.Create(CultureInfo.InvariantCulture,
                    $"time budget of {_settings.TimeBudget.TotalSeconds:0} s reached: {round - 1} of {_settings.Rounds} timed rounds ran (the machine is busy or slow; the figures are less certain)."));
                break;
            }

            foreach (var workload in workloads)
            {
                foreach (var transport in transports.Where(t => t.Supports(workload)))
                {
                    BenchAbort.ThrowIfAborted();
                    var cell = cells[(transport.Name, workload)];
                    int count = _settings.Count(transport, workload);
                    ulong first = nextSequence[transport.Name];
                    transport.LastHostShare = null;
                    long elapsed = RunRound(transport, workload, count, first, roundTrips);
                    nextSequence[transport.Name] = first + (ulong)count;
                    if (transport is RawCTransport rawC && !rawC.LastPinned)
                    {
                        cell.Pinned = false;
                    }

                    if (round > 0)
                    {
                        Record(cell, workload, count, elapsed, roundTrips);
                        if (transport.LastHostShare is { } share)
                        {
                            cell.HostShares.Add(share);
                        }
                    }

                    progress?.Invoke(new BenchProgress(transport.Name, workload, round, _settings.Rounds, round == 0));
                }
            }
        }

        if (hostCpu >= 0)
        {
            CpuAffinity.TrySetCurrentThread(allowed);
        }
    }

    private static void Record(BenchCell cell, BenchWorkload workload, int count, long elapsedTicks, long[] roundTrips)
    {
        double seconds = elapsedTicks / (double)Stopwatch.Frequency;
        if (seconds <= 0)
        {
            return;
        }

        cell.Messages += count;
        switch (workload)
        {
            case BenchWorkload.Rtt64:
                cell.Rounds.Add(seconds * 1e6 / count);
                for (int i = 0; i < count; i++)
                {
                    cell.Record(roundTrips[i]);
                }

                break;
            case BenchWorkload.Tput64:
            case BenchWorkload.Lock2P:
                cell.Rounds.Add(count / seconds);
                break;
            default:
                cell.Rounds.Add((double)count * workload.MessageSize() / seconds / 1e9);
                break;
        }
    }

    /// <summary>One round of one transport; returns the elapsed Stopwatch ticks of the timed part.</summary>
    private long RunRound(BenchTransport transport, BenchWorkload workload, int count, ulong first, long[] roundTrips)
    {
        if (!transport.UsesPeer)
        {
            return transport.HostRun(workload, count, first, roundTrips);
        }

        transport.PrepareRound(workload);
        var peer = _peer!;
        peer.StandardInput.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run {transport.Name} {workload.Name()} {count} {first}"));
        peer.StandardInput.Flush();
        long hostValue;
        try
        {
            hostValue = transport.HostRun(workload, count, first, roundTrips);
        }
        catch (Exception ex) when (ex is not BenchVerificationException && ex is not OperationCanceledException)
        {
            // Removing the objects is how an abort (Ctrl-C, SIGTERM, the peer's death) ends a blocked wait: that
            // failure is the abort, reported as such.
            BenchAbort.ThrowIfAborted();

            // A kernel transport failing mid-round usually means the peer died or reported why; say that instead.
            string? reply = TryReadReply(peer);
            throw new InvalidOperationException($"{transport.Name} {workload.Name()}: {ex.Message}" + (reply is null ? string.Empty : " (peer: " + reply + ")"), ex);
        }

        string line = TryReadReply(peer) ?? throw new InvalidOperationException($"{transport.Name} {workload.Name()}: the peer process ended without answering.{PeerErrors()}");
        if (!line.StartsWith("ok ", StringComparison.Ordinal))
        {
            throw new BenchVerificationException($"{transport.Name} {workload.Name()}: the peer reported: {line}");
        }

        // "ok START": the peer's Stopwatch timestamp before its first message; for lock-2p, its increments.
        long peerValue = long.Parse(line.AsSpan(3), CultureInfo.InvariantCulture);
        transport.CompleteRound(workload, count, peerValue);
        return workload.IsLatency() || workload == BenchWorkload.Lock2P ? hostValue : hostValue - peerValue;
    }

    private static string? TryReadReply(Process peer)
    {
        try
        {
            return peer.StandardOutput.ReadLine();
        }
        catch (IOException)
        {
            return null;
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>Starts the peer with every transport's setup string and waits until it has connected them all.</summary>
    private bool StartPeer(List<BenchTransport> peerTransports, int peerCpu, string directory, BenchRun run)
    {
        if (peerTransports.Count == 0)
        {
            return false;
        }

        var setups = peerTransports.Select(t => t.Name + "=" + t.PrepareHost(_cleanup)).ToList();
        var info = SelfProcess.StartInfo(
        [
            BenchPeerCommand.Verb,
            "parent=" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
            "cpu=" + peerCpu.ToString(CultureInfo.InvariantCulture),
            "dir=" + directory,
            .. setups,
        ]);

        var peer = Process.Start(info) ?? throw new InvalidOperationException("Could not start the peer process.");
        _peer = peer;
        _cleanup.Add("peer process " + peer.Id.ToString(CultureInfo.InvariantCulture), () => SelfProcess.Kill(peer));
        peer.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_peerErrors)
                {
                    _peerErrors.AppendLine(e.Data);
                }
            }
        };
        peer.BeginErrorReadLine();
        StartPeerWatchdog(peer);

        foreach (var transport in peerTransports)
        {
            transport.ConnectHost();
        }

        string ready = TryReadReply(peer) ?? throw new InvalidOperationException("The peer process ended during setup." + PeerErrors());
        if (!ready.StartsWith("ready ", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("The peer process failed during setup: " + ready + PeerErrors());
        }

        foreach (var transport in peerTransports)
        {
            transport.PeerReady();
        }

        bool pinned = ready.StartsWith("ready 1", StringComparison.Ordinal);
        if (!pinned && peerCpu >= 0)
        {
            run.Notes.Add("peer thread not pinned: " + ready["ready 0".Length..].Trim());
        }

        return pinned;
    }

    private string PeerErrors()
    {
        Thread.Sleep(100); // let the last stderr lines arrive
        lock (_peerErrors)
        {
            return _peerErrors.Length == 0 ? string.Empty : " Peer stderr: " + _peerErrors.ToString().Trim();
        }
    }

    /// <summary>When the peer dies during the run: abort the spinners and remove the kernel objects that block.</summary>
    private void StartPeerWatchdog(Process peer)
    {
        var thread = new Thread(() =>
        {
            peer.WaitForExit();
            if (!_finishing)
            {
                Interrupt(string.Create(CultureInfo.InvariantCulture, $"the peer process exited with code {peer.ExitCode}"));
            }
        })
        {
            IsBackground = true,
            Name = "bench peer watchdog",
        };
        thread.Start();
    }

    private void StopPeer()
    {
        var peer = _peer;
        if (peer is null)
        {
            return;
        }

        try
        {
            if (!peer.HasExited)
            {
                peer.StandardInput.WriteLine("quit");
                peer.StandardInput.Flush();
                if (!peer.WaitForExit(5_000))
                {
                    SelfProcess.Kill(peer);
                }
            }
        }
        catch (IOException)
        {
            SelfProcess.Kill(peer);
        }
        catch (InvalidOperationException)
        {
        }
    }
}
