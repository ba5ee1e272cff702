using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace ShmKit.Cli.Commands;

/// <summary>What the shared memory commands have in common: finding the segment named on the command line,
/// checking an offset and length against it, and its JSON form.</summary>
internal static class ShmSegments
{
    /// <summary>Opens the segment a key or <c>--id</c> names.</summary>
    /// <exception cref="IpcObjectNotFoundException">No such segment (the message hints at --id for a plain number).</exception>
    internal static SharedMemorySegment Open(IpcTarget target) =>
        target.Open(SharedMemorySegment.OpenById, key => SharedMemorySegment.Open(key), "segment");

    /// <summary>
    /// Checks that <paramref name="length"/> bytes at <paramref name="offset"/> lie inside the segment, with a
    /// message that names offset, length and size (a usage error).
    /// </summary>
    internal static void CheckRange(SharedMemorySegment segment, long offset, long length)
    {
        if (offset > segment.Size || length > segment.Size - offset)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"offset {offset} + length {length} is past the end of the segment with id {segment.Id}, which is {segment.Size} bytes (valid offsets 0 to {segment.Size - 1})."));
        }
    }

    /// <summary>"dest" and/or "locked", as ipcs prints the status column.</summary>
    internal static string Status(SharedMemorySegmentInfo info) =>
        string.Join(' ', new[] { info.IsMarkedForRemoval ? "dest" : null, info.IsLocked ? "locked" : null }.OfType<string>());

    /// <summary>The segments as a table like <c>ipcs -m</c>: key, shmid, owner, perms, bytes, nattch, status.</summary>
    internal static Table CreateTable(IEnumerable<SharedMemorySegmentInfo> segments)
    {
        var table = IpcObjectView.CreateListTable("shmid");
        table.AddColumn(new TableColumn("bytes").RightAligned());
        table.AddColumn(new TableColumn("nattch").RightAligned());
        table.AddColumn(new TableColumn("status"));
        foreach (var info in segments)
        {
            table.AddRow(IpcObjectView.ListCells(
                info,
                info.Size.ToString(CultureInfo.InvariantCulture),
                info.AttachCount.ToString(CultureInfo.InvariantCulture),
                Status(info)));
        }

        return table;
    }

    /// <summary>Writes the segments as a JSON array.</summary>
    internal static void WriteJsonArray(Utf8JsonWriter writer, IEnumerable<SharedMemorySegmentInfo> segments)
    {
        writer.WriteStartArray();
        foreach (var info in segments)
        {
            WriteJson(writer, info);
        }

        writer.WriteEndArray();
    }

    /// <summary>
    /// One segment as a JSON object. The field names are a stable interface for scripts: add fields, never
    /// rename or remove one.
    /// </summary>
    internal static void WriteJson(Utf8JsonWriter writer, SharedMemorySegmentInfo info)
    {
        writer.WriteStartObject();
        IpcObjectView.WriteJsonProperties(writer, info);
        writer.WriteNumber("size", info.Size);
        writer.WriteNumber("attachCount", info.AttachCount);
        writer.WriteNumber("creatorPid", info.CreatorProcessId);
        writer.WriteNumber("lastOperationPid", info.LastOperationProcessId);
        CliConsole.WriteTime(writer, "lastAttachTime", info.LastAttachTime);
        CliConsole.WriteTime(writer, "lastDetachTime", info.LastDetachTime);
        CliConsole.WriteTime(writer, "lastChangeTime", info.LastChangeTime);
        writer.WriteBoolean("markedForRemoval", info.IsMarkedForRemoval);
        writer.WriteBoolean("locked", info.IsLocked);
        writer.WriteEndObject();
    }
}
