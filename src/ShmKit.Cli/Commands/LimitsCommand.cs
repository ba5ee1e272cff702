using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit limits</c>: the host's System V limits and current usage for all three kinds, like <c>ipcs -l</c> and
/// <c>ipcs -u</c>: shared memory (kernel.shmmax, shmmin, shmmni, shmseg, shmall), semaphores (kernel.sem: semmsl,
/// semmns, semopm, semmni, and semvmx, semaem, semmnu, semume) and message queues (kernel.msgmax, msgmnb, msgmni).
/// </summary>
/// <remarks>
/// JSON numbers are exact integers. Some are near 2^64 (shmmax and shmall default to "unlimited", 18446744073692774399
/// bytes), beyond the 2^53 that a double holds exactly: a parser that reads JSON numbers as doubles (JavaScript,
/// jq before 1.7) rounds them. The help text says so; they stay numbers, as the interface has always had them.
/// </remarks>
internal static class LimitsCommand
{
    internal static Command Create()
    {
        var json = new Option<bool>("--json")
        {
            Description = "Print a JSON object for scripts: the shared memory fields at the top level, and \"semaphores\" and \"messageQueues\" objects. "
                + "Values are exact integers; shmmax and shmall are often near 2^64, above 2^53, so read them as 64-bit integers (JavaScript and jq before 1.7 round them).",
        };
        var command = new Command("limits", "Show the System V limits and their current use: shared memory (shmmax, shmmni, shmall...), semaphores (semmsl, semmni, semvmx...) and message queues (msgmax, msgmnb, msgmni), like ipcs -l and ipcs -u.") { json };
        command.SetAction(parseResult =>
        {
            var shm = SharedMemorySegment.GetLimits();
            var sem = SemaphoreSet.GetLimits();
            var msg = MessageQueue.GetLimits();
            if (parseResult.GetValue(json))
            {
                CliConsole.WriteJson(writer =>
                {
                    writer.WriteStartObject();
                    WriteSharedMemory(writer, shm);
                    writer.WriteStartObject("semaphores");
                    writer.WriteNumber("semmsl", sem.MaxSemaphoresPerSet);
                    writer.WriteNumber("semmns", sem.MaxSemaphores);
                    writer.WriteNumber("semopm", sem.MaxOperationsPerCall);
                    writer.WriteNumber("semmni", sem.MaxSets);
                    writer.WriteNumber("semvmx", sem.MaxValue);
                    writer.WriteNumber("semaem", sem.MaxUndoAdjustment);
                    writer.WriteNumber("semmnu", sem.MaxUndoStructures);
                    writer.WriteNumber("semume", sem.MaxUndoEntriesPerProcess);
                    writer.WriteNumber("setsInUse", sem.SetsInUse);
                    writer.WriteNumber("semaphoresInUse", sem.SemaphoresInUse);
                    writer.WriteEndObject();
                    writer.WriteStartObject("messageQueues");
                    writer.WriteNumber("msgmax", msg.MaxMessageSize);
                    writer.WriteNumber("msgmnb", msg.MaxQueueBytes);
                    writer.WriteNumber("msgmni", msg.MaxQueues);
                    writer.WriteNumber("queuesInUse", msg.QueuesInUse);
                    writer.WriteNumber("messagesInUse", msg.MessagesInUse);
                    writer.WriteNumber("bytesInUse", msg.BytesInUse);
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                });
                return CliErrors.Success;
            }

            var table = new Table().Border(CliConsole.Border(TableBorder.Rounded));
            table.AddColumn("limit");
            table.AddColumn("value");
            table.AddColumn("meaning");
            void Row(string name, string value, string meaning) =>
                table.AddRow(CliConsole.Cell(name), CliConsole.Cell(value), CliConsole.Cell(meaning));
            void Section(string title) => table.AddRow(CliConsole.Cell(title), CliConsole.Cell(string.Empty), CliConsole.Cell(string.Empty));
            static string Number(ulong n) => n.ToString(CultureInfo.InvariantCulture);
            static string Int(int n) => n.ToString(CultureInfo.InvariantCulture);
            ulong pageSize = (ulong)shm.PageSize;
            string Pages(ulong pages) =>
                pages > ulong.MaxValue / pageSize ? Number(pages) + " pages" : Number(pages) + " pages = " + CliConsole.FormatBytes(pages * pageSize) + " bytes";

            Section("shared memory");
            Row("shmmax", CliConsole.FormatBytes(shm.MaxSegmentSize), "largest segment, bytes");
            Row("shmmin", Number(shm.MinSegmentSize), "smallest segment, bytes");
            Row("shmmni", Number(shm.MaxSegments), "most segments on the host");
            Row("shmseg", Number(shm.MaxSegmentsPerProcess), "most segments one process attaches (not enforced by Linux)");
            Row("shmall", Pages(shm.MaxTotalPages), "most memory all segments together use");
            Row("page size", Number(pageSize), "bytes");
            Row("segments in use", Int(shm.SegmentsInUse), "segments that exist now");
            Row("pages in use", Pages(shm.PagesInUse), "allocated to segments now");
            Row("pages resident", Pages(shm.PagesResident), "in memory now");
            Row("pages swapped", Pages(shm.PagesSwapped), "swapped out now");
            Section("semaphores");
            Row("semmsl", Int(sem.MaxSemaphoresPerSet), "most semaphores in one set");
            Row("semmns", Int(sem.MaxSemaphores), "most semaphores on the host");
            Row("semopm", Int(sem.MaxOperationsPerCall), "most operations in one semop");
            Row("semmni", Int(sem.MaxSets), "most semaphore sets on the host");
            Row("semvmx", Int(sem.MaxValue), "largest value of a semaphore");
            Row("semaem", Int(sem.MaxUndoAdjustment), "largest SEM_UNDO adjustment");
            Row("sets in use", Int(sem.SetsInUse), "semaphore sets that exist now");
            Row("semaphores in use", Int(sem.SemaphoresInUse), "in those sets");
            Section("message queues");
            Row("msgmax", CliConsole.FormatBytes((ulong)msg.MaxMessageSize), "largest message, bytes");
            Row("msgmnb", CliConsole.FormatBytes((ulong)msg.MaxQueueBytes), "default capacity of a queue, bytes");
            Row("msgmni", Int(msg.MaxQueues), "most queues on the host");
            Row("queues in use", Int(msg.QueuesInUse), "queues that exist now");
            Row("messages in use", Int(msg.MessagesInUse), "messages in them");
            Row("bytes in use", CliConsole.FormatBytes((ulong)Math.Max(0, msg.BytesInUse)), "their payload bytes");
            CliConsole.Out.Write(table);
            return CliErrors.Success;
        });
        return command;
    }

    /// <summary>The shared memory fields, at the top level (as before the other kinds were added: scripts read them there).</summary>
    private static void WriteSharedMemory(Utf8JsonWriter writer, SharedMemoryLimits limits)
    {
        writer.WriteNumber("shmmax", limits.MaxSegmentSize);
        writer.WriteNumber("shmmin", limits.MinSegmentSize);
        writer.WriteNumber("shmmni", limits.MaxSegments);
        writer.WriteNumber("shmseg", limits.MaxSegmentsPerProcess);
        writer.WriteNumber("shmall", limits.MaxTotalPages);
        writer.WriteNumber("pageSize", limits.PageSize);
        writer.WriteNumber("segmentsInUse", limits.SegmentsInUse);
        writer.WriteNumber("pagesInUse", limits.PagesInUse);
        writer.WriteNumber("pagesResident", limits.PagesResident);
        writer.WriteNumber("pagesSwapped", limits.PagesSwapped);
    }
}
