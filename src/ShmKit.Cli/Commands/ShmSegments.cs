using System.Globalization;
using System.Text.Json;

namespace ShmKit.Cli.Commands;

/// <summary>What the shared memory commands have in common: finding the segment named on the command line,
/// checking an offset and length against it, and its JSON form.</summary>
internal static class ShmSegments
{
    /// <summary>Opens the segment a key or <c>--id</c> names.</summary>
    /// <exception cref="IpcObjectNotFoundException">No such segment (the message hints at --id for a plain number).</exception>
    internal static SharedMemorySegment Open(IpcTarget target)
    {
        if (target.Id is int id)
        {
            return SharedMemorySegment.OpenById(id);
        }

        var key = target.ParseKey();
        try
        {
            return SharedMemorySegment.Open(key);
        }
        catch (IpcObjectNotFoundException e) when (target.IsDecimalKey)
        {
            string number = target.KeyText!.Trim();
            throw new IpcObjectNotFoundException($"{e.Message} (A plain number is a key; to name the segment with id {number}, write --id {number}.)", e);
        }
    }

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

    /// <summary>
    /// One segment as a JSON object. The field names are a stable interface for scripts: add fields, never
    /// rename or remove one.
    /// </summary>
    internal static void WriteJson(Utf8JsonWriter writer, SharedMemorySegmentInfo info)
    {
        writer.WriteStartObject();
        writer.WriteString("key", info.Key.ToString());
        writer.WriteNumber("id", info.Id);
        writer.WriteString("owner", CliNames.User(info.OwnerUserId));
        writer.WriteNumber("ownerUid", info.OwnerUserId);
        writer.WriteNumber("ownerGid", info.OwnerGroupId);
        writer.WriteNumber("creatorUid", info.CreatorUserId);
        writer.WriteNumber("creatorGid", info.CreatorGroupId);
        writer.WriteString("mode", CliParsing.FormatMode(info.Mode));
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
