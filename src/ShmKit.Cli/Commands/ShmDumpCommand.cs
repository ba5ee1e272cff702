using System.CommandLine;
using System.Text;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit dump</c>: a hex dump of a segment (attached read-only) in the format of <c>hexdump -C</c>:
/// 8-digit hex offsets, 16 bytes per line in two groups of 8, an |ascii| column, a <c>*</c> line for a run of
/// lines that repeat the previous one, and the end offset on the last line. Offsets are the segment's own.
/// </summary>
internal static class ShmDumpCommand
{
    private const int BytesPerLine = 16;

    internal static Command Create()
    {
        var offset = CliParsing.ByteCountOption("--offset", "Where to start, in bytes from the start of the segment (default 0).");
        var length = CliParsing.ByteCountOption("--length", "How many bytes (default: up to the end of the segment).");
        var command = new Command("dump", "Hex dump of a segment (attached read-only), in the format of hexdump -C.") { offset, length };
        var target = CliParsing.AddKeyOrId(command, "segment");
        command.SetAction(parseResult =>
        {
            var segment = ShmSegments.Open(target.GetTarget(parseResult));
            long start = parseResult.GetValue(offset);
            long count = parseResult.GetResult(length) is null ? Math.Max(0, segment.Size - start) : parseResult.GetValue(length);
            ShmSegments.CheckRange(segment, start, count);
            using var attachment = segment.AttachReadOnly();
            using var stdout = OutputCheck.OpenStandardOutput();
            try
            {
                using (var writer = new StreamWriter(stdout, new UTF8Encoding(false), 1 << 16, leaveOpen: true))
                {
                    Write(writer, attachment, start, count);
                }

                OutputCheck.Finish(stdout);
            }
            catch (IOException e) when (ShmSegments.IsBrokenPipe(e))
            {
                return ShmSegments.BrokenPipeExitCode; // `shmkit dump ... | head`: stop quietly, as hexdump does
            }

            return CliErrors.Success;
        });
        return command;
    }

    /// <summary>Writes the dump of <paramref name="count"/> bytes at <paramref name="start"/>; nothing at all when count is 0, as hexdump.</summary>
    internal static void Write(TextWriter output, ReadOnlySharedMemoryAttachment attachment, long start, long count)
    {
        if (count == 0)
        {
            return;
        }

        byte[] previous = new byte[BytesPerLine];
        char[] line = new char[80];
        bool havePrevious = false;
        bool inRepeat = false;
        long end = start + count;
        long at = start;
        ShmSegments.ForEachChunk(attachment, start, count, chunk =>
        {
            // Chunks are multiples of 16 bytes except the last, so lines never straddle two chunks.
            for (int i = 0; i < chunk.Length; i += BytesPerLine, at += BytesPerLine)
            {
                var bytes = chunk.Slice(i, Math.Min(BytesPerLine, chunk.Length - i));
                if (havePrevious && bytes.Length == BytesPerLine && bytes.SequenceEqual(previous))
                {
                    if (!inRepeat)
                    {
                        output.Write("*\n");
                        inRepeat = true;
                    }

                    continue;
                }

                inRepeat = false;
                bytes.CopyTo(previous);
                havePrevious = bytes.Length == BytesPerLine;
                output.Write(FormatLine(line, at, bytes));
            }
        });

        output.Write(Offset(end));
        output.Write('\n');
    }

    private static ReadOnlySpan<char> FormatLine(Span<char> line, long offset, ReadOnlySpan<byte> bytes)
    {
        int n = 0;
        foreach (char c in Offset(offset))
        {
            line[n++] = c;
        }

        line[n++] = ' ';
        line[n++] = ' ';
        for (int i = 0; i < BytesPerLine; i++)
        {
            if (i < bytes.Length)
            {
                line[n++] = HexDigit(bytes[i] >> 4);
                line[n++] = HexDigit(bytes[i] & 0xF);
            }
            else
            {
                line[n++] = ' ';
                line[n++] = ' ';
            }

            line[n++] = ' ';
            if (i == 7)
            {
                line[n++] = ' ';
            }
        }

        line[n++] = ' ';
        line[n++] = '|';
        foreach (byte b in bytes)
        {
            line[n++] = b is >= 0x20 and < 0x7F ? (char)b : '.';
        }

        line[n++] = '|';
        line[n++] = '\n';
        return line[..n];
    }

    /// <summary>At least 8 lowercase hex digits, as hexdump prints offsets.</summary>
    private static string Offset(long offset) => offset.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);

    private static char HexDigit(int value) => (char)(value < 10 ? '0' + value : 'a' + value - 10);
}
