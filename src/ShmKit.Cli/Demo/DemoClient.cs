using System.Diagnostics;
using System.Globalization;

namespace ShmKit.Cli.Demo;

/// <summary>
/// The client half: opens the rendezvous as soon as it appears, blocks on the ready gate until the server has written
/// the whole table, verifies every record, then updates a few records in the middle, one at a time under the lock,
/// logs them in the segment, and rings the server's doorbell.
/// </summary>
internal static class DemoClient
{
    internal sealed record Options(IpcKey Key, int Updates, TimeSpan Timeout, int ParentProcessId, long ClockOrigin = 0);

    internal static int Run(Options options)
    {
        var log = new DemoLog(options.ClockOrigin);
        using var cancellation = new DemoCancellation(options.ParentProcessId);
        try
        {
            return Run(options, log, cancellation.Token);
        }
        catch (IpcObjectRemovedException)
        {
            log.Say("the server removed the table (it stopped or was interrupted); nothing left to do");
            return CliErrors.Failure;
        }
        catch (OperationCanceledException)
        {
            log.Say("cancelled");
            return CliErrors.Failure;
        }
    }

    private static int Run(Options options, DemoLog log, CancellationToken token)
    {
        using var rendezvous = SharedMemoryRendezvous.Open(options.Key, options.Timeout, token);
        var view = rendezvous.Attachment;
        log.Say(string.Create(CultureInfo.InvariantCulture,
            $"opened key {options.Key}: segment id {rendezvous.Segment.Id} ({view.Length} bytes), semaphore set id {rendezvous.Semaphores.Id}"));

        bool early = !rendezvous.IsReady;
        if (early)
        {
            log.Say("the server is still writing: blocking on the ready gate (semop on semaphore 0)");
        }

        long waitStart = Stopwatch.GetTimestamp();
        rendezvous.WaitReady(options.Timeout, token);
        double waited = Stopwatch.GetElapsedTime(waitStart).TotalMilliseconds;
        log.Say(early
            ? string.Create(CultureInfo.InvariantCulture, $"gate opened after {waited:0.0} ms of waiting")
            : "the gate was already open");

        // Read and verify the whole table under the lock: every record must be complete and as the server wrote it.
        DemoHeader header;
        int records;
        long verifyStart = Stopwatch.GetTimestamp();
        using (rendezvous.Lock(options.Timeout, token))
        {
            header = DemoTable.ReadValidHeader(view);
            records = header.RecordCount;
            for (int i = 0; i < records; i++)
            {
                var record = view.Read<DemoRecord>(DemoTable.RecordOffset(i));
                var expected = DemoTable.InitialRecord(i);
                if (record.Checksum != record.ComputeChecksum() || record.Id != i || record.Value != expected.Value || record.Version != expected.Version)
                {
                    log.Say(string.Create(CultureInfo.InvariantCulture,
                        $"FAIL: record #{i} is not what the server wrote (id {record.Id}, value {record.Value}, version {record.Version}): half-written data"));
                    return CliErrors.Failure;
                }
            }
        }

        log.Say(string.Create(CultureInfo.InvariantCulture,
            $"verified all {records} records ({(long)records * DemoTable.RecordSize} bytes, every checksum) in {Stopwatch.GetElapsedTime(verifyStart).TotalMilliseconds:0.00} ms: no half-written data"));

        // Random access: update single records in the middle, each under the lock, touching only its 64 bytes.
        int updates = Math.Min(options.Updates, DemoTable.MaxUpdates);
        if (DemoTable.CheckUpdates(records, updates) is { } tooFew)
        {
            // Checked before changing anything: the table stays as the server wrote it.
            throw new CliException($"{tooFew} (the server's table has {records}).", CliErrors.Usage);
        }

        var random = new Random(Environment.ProcessId);
        int n = 0;
        foreach (int index in DemoTable.ChooseMiddleRecords(records, updates, random))
        {
            long offset = DemoTable.RecordOffset(index);
            long start = Stopwatch.GetTimestamp();
            long newValue = 1_000_000 + random.Next(0, 1_000_000);
            using (rendezvous.Lock(options.Timeout, token))
            {
                // Copies in and out (Read/Write), under the lock: the server reads these fields only under it too.
                var record = view.Read<DemoRecord>(offset);
                record.Value = newValue;
                record.Version++;
                record.UpdatedBy = Environment.ProcessId;
                record.Checksum = record.ComputeChecksum();
                view.Write(offset, record);
                view.Write(DemoTable.UpdateOffset(n), new DemoUpdate { Index = index, NewValue = newValue });
                var shared = view.Read<DemoHeader>(DemoTable.HeaderOffset);
                shared.UpdateCount = ++n;
                shared.ClientProcessId = Environment.ProcessId;
                view.Write(DemoTable.HeaderOffset, shared);
            }

            log.Say(string.Create(CultureInfo.InvariantCulture,
                $"updated record #{index} at offset {offset}: value -> {newValue} ({DemoTable.RecordSize} bytes under the lock, {Stopwatch.GetElapsedTime(start).TotalMicroseconds:0} us)"));
        }

        using (rendezvous.Lock(options.Timeout, token))
        {
            var done = view.Read<DemoHeader>(DemoTable.HeaderOffset);
            done.ClientDone = 1;
            view.Write(DemoTable.HeaderOffset, done);
        }

        ProcessSignalNotifier.Send(header.ServerProcessId, NotificationSignal.User1);
        log.Say(string.Create(CultureInfo.InvariantCulture, $"done: logged {n} updates and rang the server's doorbell (SIGUSR1 to pid {header.ServerProcessId})"));
        return CliErrors.Success;
    }
}
