using System.CommandLine;
using System.Globalization;

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
        var command = new Command("read", "Read bytes from a segment (attached read-only). Default: raw bytes to stdout.")
        {
            offset, length,
        };
        var output = PayloadOutput.Add(command);
        var target = CliParsing.AddKeyOrId(command, "segment");

        command.SetAction(parseResult =>
        {
            var segment = ShmSegments.Open(target.GetTarget(parseResult));
            long start = parseResult.GetValue(offset);
            long count = parseResult.GetResult(length) is null ? Math.Max(0, segment.Size - start) : parseResult.GetValue(length);
            ShmSegments.CheckRange(segment, start, count);
            using var attachment = segment.AttachReadOnly();

            output.Write(
                parseResult,
                action => ForEachChunk(attachment, start, count, action),
                prefix: null,
                path => string.Create(CultureInfo.InvariantCulture, $"wrote {count} bytes from offset {start} of segment id {segment.Id} to {path}"));

            return CliErrors.Success;
        });
        return command;
    }

    /// <summary>Hands the range to <paramref name="action"/> in spans of at most <see cref="ChunkSize"/> bytes, straight from the mapping.</summary>
    private static void ForEachChunk(ReadOnlySharedMemoryAttachment attachment, long start, long count, PayloadOutput.ChunkAction action)
    {
        using var lease = attachment.Acquire();
        for (long done = 0; done < count;)
        {
            int n = (int)Math.Min(ChunkSize, count - done);
            action(lease.GetSpan(start + done, n));
            done += n;
        }
    }
}
