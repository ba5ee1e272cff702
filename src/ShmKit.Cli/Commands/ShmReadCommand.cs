using System.CommandLine;
using System.Globalization;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit read</c>: copies bytes out of a segment (attached read-only): raw to stdout by default, or as hex,
/// as text, or into a file. The bytes are copied out in chunks (<see cref="ShmSegments.ForEachChunk"/>), so memory use
/// does not grow with the segment.
/// </summary>
internal static class ShmReadCommand
{
    internal static Command Create()
    {
        var offset = CliParsing.ByteCountOption("--offset", "Where to start, in bytes from the start of the segment (default 0).");
        var length = CliParsing.ByteCountOption("--length", "How many bytes (default: up to the end of the segment).");
        var command = new Command("read", "Read bytes from a segment (attached read-only). Default: raw bytes to stdout.")
        {
            offset, length,
        };
        var output = PayloadOutput.Add(command, textStopsAtNul: true);
        var target = CliParsing.AddKeyOrId(command, "segment");

        command.SetAction(parseResult =>
        {
            var segment = ShmSegments.Open(target.GetTarget(parseResult));
            long start = parseResult.GetValue(offset);
            long count = parseResult.GetResult(length) is null ? Math.Max(0, segment.Size - start) : parseResult.GetValue(length);
            ShmSegments.CheckRange(segment, start, count);
            using var attachment = segment.AttachReadOnly();
            using var sink = output.Open(parseResult, count, "so nothing was read");
            try
            {
                sink.Write(prefix: null, action => ShmSegments.ForEachChunk(attachment, start, count, action));
                sink.Commit();
            }
            catch (IOException e) when (ShmSegments.IsBrokenPipe(e) && sink.FilePath is null)
            {
                // The reader of stdout is gone (`shmkit read ... | head -c 16`): stop quietly, as a tool killed by
                // SIGPIPE does; the shell reports 128 + 13.
                return ShmSegments.BrokenPipeExitCode;
            }

            if (sink.FilePath is { } path)
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {count} bytes from offset {start} of segment id {segment.Id} to {path}"));
            }

            return CliErrors.Success;
        });
        return command;
    }
}
