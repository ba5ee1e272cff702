using System.Globalization;

namespace ShmKit.Cli.Demo;

/// <summary>
/// The server half: creates the segment and semaphore set, fills the table slowly on purpose (so an early client
/// visibly waits), opens the ready gate, then waits for the client's doorbell and checks that exactly the records the
/// client logged changed, to exactly the logged values, and nothing else.
/// </summary>
internal static class DemoServer
{
    internal sealed record Options(IpcKey Key, int Records, TimeSpan WriteTime, TimeSpan Timeout, bool Replace, int ParentProcessId, long ClockOrigin = 0);

    internal static int Run(Options options)
    {
        var log = new DemoLog(options.ClockOrigin);
        using var cancellation = new DemoCancellation(options.ParentProcessId);
        var token = cancellation.Token;

        // A running server's objects, another program's, or those a server that is gone left: see DemoPredecessor.
        if (DemoPredecessor.Check(options.Key, options.Replace, log) is { } taken)
        {
            throw taken;
        }

        long size = DemoTable.SizeFor(options.Records);
        // The doorbell must exist before our pid is published in the header: until then SIGUSR1 would kill us.
        using var doorbell = new ProcessSignalListener(NotificationSignal.User1);
        long creating = DemoLog.Now;
        SharedMemoryRendezvous created;
        try
        {
            created = SharedMemoryRendezvous.Create(options.Key, size);
        }
        catch (IpcObjectExistsException e)
        {
            // Another server took the key after the check: say which, as the check would have.
            throw DemoPredecessor.Check(options.Key, replace: false, log) ?? (Exception)e;
        }

        using var rendezvous = created;
        var view = rendezvous.Attachment;
        log.Say(string.Create(CultureInfo.InvariantCulture,
            $"created segment id {rendezvous.Segment.Id} ({size} bytes) and semaphore set id {rendezvous.Semaphores.Id} under key {options.Key}, mode 0600; ready gate closed"), creating);

        // Fill the table. Clients that opened early are blocked on the ready gate meanwhile.
        var header = new DemoHeader
        {
            Magic = DemoTable.Magic,
            FormatVersion = DemoTable.FormatVersion,
            RecordCount = options.Records,
            RecordSize = DemoTable.RecordSize,
            ServerProcessId = Environment.ProcessId,
        };
        view.Write(DemoTable.HeaderOffset, header);
        const int batch = 50;
        int batches = (options.Records + batch - 1) / batch;
        var pause = batches > 0 ? options.WriteTime / batches : TimeSpan.Zero;
        for (int i = 0; i < options.Records; i++)
        {
            view.Write(DemoTable.RecordOffset(i), DemoTable.InitialRecord(i));
            if (i % batch == batch - 1 && token.WaitHandle.WaitOne(pause))
            {
                log.Say("cancelled while writing the table; removing the segment and semaphore set");
                return CliErrors.Failure;
            }
        }

        // A private copy: what the table must look like apart from the client's logged updates.
        byte[] before = new byte[checked((int)size)];
        view.ReadBytes(0, before);

        // Stamped before the gate opens, so no client's "gate opened" line can carry an earlier time.
        long opening = DemoLog.Now;
        rendezvous.MarkReady();
        log.Say(string.Create(CultureInfo.InvariantCulture,
            $"wrote {options.Records} records of {DemoTable.RecordSize} bytes; opened the ready gate (semaphore 0: 0 -> 1)"), opening);

        // Wait for the client: a SIGUSR1 doorbell wakes us; the facts are in the header, read under the lock.
        log.Say(string.Create(CultureInfo.InvariantCulture, $"waiting up to {options.Timeout.TotalSeconds:0} s for a client to update records (pid {Environment.ProcessId} listens for SIGUSR1)"));
        var deadline = DateTime.UtcNow + options.Timeout;
        DemoHeader now;
        while (true)
        {
            bool rang;
            try
            {
                rang = doorbell.Wait(TimeSpan.FromMilliseconds(250), token);
            }
            catch (OperationCanceledException)
            {
                log.Say("cancelled while waiting for the client; removing the segment and semaphore set");
                return CliErrors.Failure;
            }

            using (rendezvous.Lock(TimeSpan.FromSeconds(5), token))
            {
                now = DemoTable.ReadValidHeader(view);
            }

            if (now.ClientDone == 1)
            {
                log.Say(string.Create(CultureInfo.InvariantCulture,
                    $"{(rang ? "doorbell (SIGUSR1)" : "poll")}: client pid {now.ClientProcessId} reports {now.UpdateCount} updates"));
                break;
            }

            if (DateTime.UtcNow > deadline)
            {
                log.Say("no client finished in time; removing the segment and semaphore set");
                return CliErrors.Failure;
            }
        }

        return Verify(log, rendezvous, before, now) ? CliErrors.Success : CliErrors.Failure;
    }

    /// <summary>Compares the table with the private copy: the changed records must be exactly the logged ones.</summary>
    private static bool Verify(DemoLog log, SharedMemoryRendezvous rendezvous, byte[] before, DemoHeader header)
    {
        var view = rendezvous.Attachment;
        var logged = new Dictionary<int, long>();
        var changed = new List<int>();
        byte[] current = new byte[DemoTable.RecordSize];
        using (rendezvous.Lock(TimeSpan.FromSeconds(5)))
        {
            for (int u = 0; u < header.UpdateCount; u++)
            {
                var update = view.Read<DemoUpdate>(DemoTable.UpdateOffset(u));
                if (update.Index < 0 || update.Index >= header.RecordCount)
                {
                    log.Say(string.Create(CultureInfo.InvariantCulture, $"FAIL: update log entry {u} names record {update.Index}, outside 0..{header.RecordCount - 1}"));
                    return false;
                }

                logged[update.Index] = update.NewValue;
            }

            for (int i = 0; i < header.RecordCount; i++)
            {
                long offset = DemoTable.RecordOffset(i);
                view.ReadBytes(offset, current);
                if (!current.AsSpan().SequenceEqual(before.AsSpan(checked((int)offset), DemoTable.RecordSize)))
                {
                    changed.Add(i);
                }
            }
        }

        bool ok = true;
        foreach (int i in changed)
        {
            var record = view.Read<DemoRecord>(DemoTable.RecordOffset(i));
            var old = DemoTable.InitialRecord(i);
            bool expected = logged.TryGetValue(i, out long value) && record.Value == value && record.Checksum == record.ComputeChecksum()
                && record.Id == i && record.Version == old.Version + 1;
            ok &= expected;
            log.Say(string.Create(CultureInfo.InvariantCulture,
                $"{(expected ? "sees" : "UNEXPECTED")} record #{i} ({record.GetName()}): value {old.Value} -> {record.Value}, version {record.Version}, by pid {record.UpdatedBy}"));
        }

        foreach (int i in logged.Keys.Where(i => !changed.Contains(i)))
        {
            ok = false;
            log.Say(string.Create(CultureInfo.InvariantCulture, $"FAIL: the client logged an update of record #{i}, but it did not change"));
        }

        int untouched = header.RecordCount - changed.Count;
        log.Say(ok
            ? string.Create(CultureInfo.InvariantCulture, $"exactly the {changed.Count} logged records changed; the other {untouched} are byte-for-byte as written")
            : "FAIL: the table does not match the client's log");
        return ok;
    }
}
