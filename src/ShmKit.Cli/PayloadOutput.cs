using System.CommandLine;

namespace ShmKit.Cli;

/// <summary>
/// Where a command's bytes go: raw to stdout by default, or <c>--hex</c> (one line), <c>--text</c> (the bytes as they
/// are, and a newline), or <c>--out</c> (a file) (<c>shmkit read</c>, <c>shmkit msg recv</c>). See <see cref="Add"/>.
/// </summary>
/// <remarks>
/// The destination is opened and checked by <see cref="Open"/> before the command does anything it cannot undo (a
/// received message is gone from its queue): a missing directory, a directory, a closed or read-only stdout and
/// /dev/full are refused there (<see cref="OutputCheck"/>). The bytes are then written in chunks, never gathered into
/// one buffer or string, and never re-encoded: <c>--text</c> passes bytes that are not UTF-8 through unchanged.
/// </remarks>
/// <param name="Hex">The <c>--hex</c> option.</param>
/// <param name="Text">The <c>--text</c> option.</param>
/// <param name="Out">The <c>--out</c> option.</param>
/// <param name="TextStopsAtNul">True when <c>--text</c> ends at the first NUL byte (a C string in a segment).</param>
internal sealed record PayloadOutput(Option<bool> Hex, Option<bool> Text, Option<FileInfo> Out, bool TextStopsAtNul)
{
    /// <summary>Hands out a range of bytes in pieces (so a large range never needs one buffer), in order.</summary>
    internal delegate void ChunkSource(ChunkAction action);

    /// <summary>Receives one piece of the bytes.</summary>
    internal delegate void ChunkAction(ReadOnlySpan<byte> chunk);

    /// <summary>Adds the three options to <paramref name="command"/>, and a check that at most one is given.</summary>
    /// <param name="command">The command.</param>
    /// <param name="textStopsAtNul">True for a segment, whose text is a C string; false for a message, whose length is exact.</param>
    internal static PayloadOutput Add(Command command, bool textStopsAtNul)
    {
        string text = textStopsAtNul
            ? "Print the bytes up to the first NUL byte (a C string), as they are (no re-encoding), and a newline."
            : "Print the bytes as they are (no re-encoding; a NUL or invalid UTF-8 is passed through), and a newline.";
        var output = new PayloadOutput(
            new Option<bool>("--hex") { Description = "Print the bytes as one line of lowercase hex." },
            new Option<bool>("--text") { Description = text },
            new Option<FileInfo>("--out") { Description = "Write the bytes to this file instead of stdout (an existing file is replaced, a new one created).", HelpName = "path" },
            textStopsAtNul);
        command.Options.Add(output.Hex);
        command.Options.Add(output.Text);
        command.Options.Add(output.Out);
        command.Validators.Add(result =>
        {
            int formats = (result.GetValue(output.Hex) ? 1 : 0) + (result.GetValue(output.Text) ? 1 : 0) + (result.GetResult(output.Out) is null ? 0 : 1);
            if (formats > 1)
            {
                result.AddError("give only one of --hex, --text and --out");
            }
        });
        return output;
    }

    /// <summary>
    /// Opens the destination and checks that it can take bytes, writing nothing yet.
    /// </summary>
    /// <param name="parseResult">The parse result.</param>
    /// <param name="maxBytes">The most bytes that will be written: a new file gets that much space reserved now
    /// (posix_fallocate), so a full disk shows up before anything is done.</param>
    /// <param name="nothingDone">The end of the message when the destination is refused, saying what did not happen
    /// ("so the message was not received (the queue is as it was)").</param>
    /// <exception cref="CliException">The destination cannot be written.</exception>
    internal PayloadSink Open(ParseResult parseResult, long maxBytes, string nothingDone)
    {
        var format = parseResult.GetValue(Hex) ? PayloadSink.Format.Hex
            : parseResult.GetValue(Text) ? (TextStopsAtNul ? PayloadSink.Format.CString : PayloadSink.Format.Text)
            : PayloadSink.Format.Raw;
        if (parseResult.GetValue(Out) is { } file)
        {
            return PayloadSink.OpenFile(file.FullName, maxBytes, nothingDone);
        }

        if (OutputCheck.WhyNotWritable(OutputCheck.StandardOutput, "stdout", inherited: true) is { } why)
        {
            throw new CliException($"{why}, {nothingDone}.", CliErrors.Failure);
        }

        return PayloadSink.OpenStandardOutput(format);
    }
}
