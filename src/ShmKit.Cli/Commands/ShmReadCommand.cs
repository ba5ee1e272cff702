using System.CommandLine;
using System.Globalization;
using System.Text;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit read</c>: copies bytes out of a segment (attached read-only): raw to stdout by default, or as hex,
/// as text, or into a file.
/// </summary>
internal static class ShmReadCommand
{
    /// <summary>Bytes copied per step, so a large read never needs a buffer the size of the segment.</summary>
    private const int ChunkSize = 1 << 20;

    internal static Command Create()
    {
        var offset = CliParsing.ByteCountOption("--offset", "Where to start, in bytes from the start of the segment (default 0).");
        var length = CliParsing.ByteCountOption("--length", "How many bytes (default: up to the end of the segment).");
        var hex = new Option<bool>("--hex") { Description = "Print the bytes as one line of lowercase hex." };
        var text = new Option<bool>("--text") { Description = "Print the bytes as UTF-8 text, up to the first NUL byte (C string), and a newline." };
        var output = new Option<FileInfo>("--out") { Description = "Write the bytes to this file instead of stdout.", HelpName = "path" };
        var command = new Command("read", "Read bytes from a segment (attached read-only). Default: raw bytes to stdout.")
        {
            offset, length, hex, text, output,
        };
        var target = CliParsing.AddKeyOrId(command, "segment");
        command.Validators.Add(result =>
        {
            int formats = (result.GetValue(hex) ? 1 : 0) + (result.GetValue(text) ? 1 : 0) + (result.GetResult(output) is null ? 0 : 1);
            if (formats > 1)
            {
                result.AddError("give only one of --hex, --text and --out");
            }
        });

        command.SetAction(parseResult =>
        {
            var segment = ShmSegments.Open(target.GetTarget(parseResult));
            long start = parseResult.GetValue(offset);
            long count = parseResult.GetResult(length) is null ? Math.Max(0, segment.Size - start) : parseResult.GetValue(length);
            ShmSegments.CheckRange(segment, start, count);
            using var attachment = segment.AttachReadOnly();

            if (parseResult.GetValue(hex))
            {
                var line = new StringBuilder();
                ForEachChunk(attachment, start, count, chunk => line.Append(Convert.ToHexStringLower(chunk)));
                Console.Out.WriteLine(line.ToString());
            }
            else if (parseResult.GetValue(text))
            {
                var bytes = new MemoryStream();
                bool ended = false;
                ForEachChunk(attachment, start, count, chunk =>
                {
                    int nul = ended ? 0 : chunk.IndexOf((byte)0);
                    if (!ended)
                    {
                        bytes.Write(nul < 0 ? chunk : chunk[..nul]);
                        ended = nul >= 0;
                    }
                });
                Console.Out.WriteLine(Encoding.UTF8.GetString(bytes.GetBuffer(), 0, (int)bytes.Length));
            }
            else if (parseResult.GetValue(output) is { } file)
            {
                using (var stream = file.Create())
                {
                    ForEachChunk(attachment, start, count, chunk => stream.Write(chunk));
                }

                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {count} bytes from offset {start} of segment id {segment.Id} to {file.FullName}"));
            }
            else
            {
                using var stdout = Console.OpenStandardOutput();
                ForEachChunk(attachment, start, count, chunk => stdout.Write(chunk));
            }

            return CliErrors.Success;
        });
        return command;
    }

    private delegate void ChunkAction(ReadOnlySpan<byte> chunk);

    /// <summary>Hands the range to <paramref name="action"/> in spans of at most <see cref="ChunkSize"/> bytes, straight from the mapping.</summary>
    private static void ForEachChunk(ReadOnlySharedMemoryAttachment attachment, long start, long count, ChunkAction action)
    {
        for (long done = 0; done < count;)
        {
            int n = (int)Math.Min(ChunkSize, count - done);
            action(attachment.GetSpan(start + done, n));
            done += n;
        }
    }
}
