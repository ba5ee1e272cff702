using System.CommandLine;
using System.Globalization;
using System.Text;

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
        var text = new Option<string>("--text") { Description = "Write this text, UTF-8 encoded (no terminating NUL is added).", HelpName = "text" };
        var hex = new Option<string>("--hex") { Description = "Write these bytes, in hex: 'deadbeef', 'de ad be ef' or 'de:ad:be:ef'.", HelpName = "hex" };
        var file = new Option<FileInfo>("--file") { Description = "Write the contents of this file.", HelpName = "path" };
        var command = new Command("write", "Write bytes into a segment at an offset, touching only those bytes. Reads stdin when no --text, --hex or --file is given.")
        {
            offset, text, hex, file,
        };
        var target = CliParsing.AddKeyOrId(command, "segment");
        command.Validators.Add(result =>
        {
            int sources = (result.GetResult(text) is null ? 0 : 1) + (result.GetResult(hex) is null ? 0 : 1) + (result.GetResult(file) is null ? 0 : 1);
            if (sources > 1)
            {
                result.AddError("give only one of --text, --hex and --file");
            }
        });

        command.SetAction(parseResult =>
        {
            long at = parseResult.GetValue(offset);
            byte[] data = parseResult.GetValue(text) is { } t ? Encoding.UTF8.GetBytes(t)
                : parseResult.GetValue(hex) is { } h ? CliParsing.ParseHex(h)
                : parseResult.GetValue(file) is { } f ? File.ReadAllBytes(f.FullName)
                : ReadStdin();

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

    private static byte[] ReadStdin()
    {
        if (!Console.IsInputRedirected)
        {
            throw new ArgumentException("nothing to write: give --text, --hex or --file, or pipe the bytes to stdin.");
        }

        using var stdin = Console.OpenStandardInput();
        using var buffer = new MemoryStream();
        stdin.CopyTo(buffer);
        return buffer.ToArray();
    }
}
