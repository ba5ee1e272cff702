using System.CommandLine;
using System.Globalization;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit write</c>: writes bytes at an offset of a segment, touching nothing else. The bytes come from
/// <c>--text</c>, <c>--hex</c>, <c>--file</c>, or stdin when none is given, read only up to the room left in the
/// segment after the offset: more is a size error (exit 7) and nothing is written.
/// </summary>
internal static class ShmWriteCommand
{
    internal static Command Create()
    {
        var offset = CliParsing.ByteCountOption("--offset", "Where to write, in bytes from the start of the segment (default 0; 0x100 and 4KiB work too).");
        var json = new Option<bool>("--json") { Description = "Print the result as JSON: id, key, offset, bytes and size." };
        var command = new Command("write", "Write bytes into a segment at an offset, touching only those bytes. Reads stdin when no --text, --hex or --file is given.")
        {
            offset, json,
        };
        var input = PayloadInput.Add(command, "Write");
        var target = CliParsing.AddKeyOrId(command, "segment");

        command.SetAction(parseResult =>
        {
            long at = parseResult.GetValue(offset);
            byte[]? given = input.ReadArgument(parseResult);
            var segment = ShmSegments.Open(target.GetTarget(parseResult));
            if (at > segment.Size)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"offset {at} is past the end of the segment with id {segment.Id}, which is {segment.Size} bytes (valid offsets 0 to {segment.Size - 1})."));
            }

            long room = segment.Size - at;
            byte[] data = input.Read(parseResult, given, "write", room, amount => string.Create(CultureInfo.InvariantCulture,
                $"the bytes ({amount}) do not fit at offset {at} of the segment with id {segment.Id} ({PayloadInput.Bytes(segment.Size)}): there is room for {PayloadInput.Bytes(room)}; nothing was written."));
            using (var attachment = segment.Attach())
            {
                attachment.WriteBytes(at, data);
            }

            if (parseResult.GetValue(json))
            {
                CliConsole.WriteJson(writer =>
                {
                    writer.WriteStartObject();
                    writer.WriteNumber("id", segment.Id);
                    writer.WriteString("key", segment.Key.ToString());
                    writer.WriteNumber("offset", at);
                    writer.WriteNumber("bytes", data.LongLength);
                    writer.WriteNumber("size", segment.Size);
                    writer.WriteEndObject();
                });
            }
            else
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"wrote {data.Length} bytes at offset {at} of segment id {segment.Id} (size {segment.Size})"));
            }

            return CliErrors.Success;
        });
        return command;
    }
}
