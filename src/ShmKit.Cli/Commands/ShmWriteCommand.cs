using System.CommandLine;
using System.Globalization;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit write</c>: writes bytes at an offset of a segment, touching nothing else. The bytes come from
/// <c>--text</c> (UTF-8), <c>--hex</c>, <c>--file</c>, or stdin when none is given.
/// </summary>
internal static class ShmWriteCommand
{
    internal static Command Create()
    {
        var offset = CliParsing.ByteCountOption("--offset", "Where to write, in bytes from the start of the segment (default 0; 0x100 and 4KiB work too).");
        var command = new Command("write", "Write bytes into a segment at an offset, touching only those bytes. Reads stdin when no --text, --hex or --file is given.")
        {
            offset,
        };
        var input = PayloadInput.Add(command, "Write");
        var target = CliParsing.AddKeyOrId(command, "segment");

        command.SetAction(parseResult =>
        {
            long at = parseResult.GetValue(offset);
            byte[] data = input.Read(parseResult, "write");

            var segment = ShmSegments.Open(target.GetTarget(parseResult));
            ShmSegments.CheckRange(segment, at, data.LongLength);
            using (var attachment = segment.Attach())
            {
                attachment.WriteBytes(at, data);
            }

            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"wrote {data.Length} bytes at offset {at} of segment id {segment.Id} (size {segment.Size})"));
            return CliErrors.Success;
        });
        return command;
    }
}
