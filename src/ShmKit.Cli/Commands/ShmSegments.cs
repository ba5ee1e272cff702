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

    /// <summary>Bytes copied per step by <see cref="ForEachChunk"/>, so a large range never needs a buffer its size.</summary>
    internal const int ChunkSize = 1 << 20;

    /// <summary>The exit code after stdout's reader went away (128 + SIGPIPE, what a shell shows for a tool killed by it).</summary>
    internal const int BrokenPipeExitCode = 141;

    /// <summary>
    /// Hands the range to <paramref name="action"/> in chunks of at most <see cref="ChunkSize"/> bytes, each copied out
    /// of the mapping (<see cref="ReadOnlySharedMemoryAttachment.ReadBytes"/>) into one reused buffer.
    /// </summary>
    internal static void ForEachChunk(ReadOnlySharedMemoryAttachment attachment, long start, long count, PayloadOutput.ChunkAction action)
    {
        byte[] buffer = new byte[(int)Math.Min(ChunkSize, Math.Max(count, 1))];
        for (long done = 0; done < count;)
        {
            int n = (int)Math.Min(buffer.Length, count - done);
            attachment.ReadBytes(start + done, buffer.AsSpan(0, n));
            action(buffer.AsSpan(0, n));
            done += n;
        }
    }

    /// <summary>True when a write failed because the reading end of a pipe was closed (EPIPE).</summary>
    internal static bool IsBrokenPipe(IOException e) => e.HResult == 32;

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
