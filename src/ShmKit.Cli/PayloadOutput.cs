using System.CommandLine;
using System.Text;

namespace ShmKit.Cli;

/// <summary>
/// Where a command's bytes go: raw to stdout by default, or <c>--hex</c> (one line), <c>--text</c> (UTF-8 up to the
/// first NUL, and a newline), or <c>--out</c> (a file) (<c>shmkit read</c>, <c>shmkit msg recv</c>). See <see cref="Add"/>.
/// </summary>
/// <param name="Hex">The <c>--hex</c> option.</param>
/// <param name="Text">The <c>--text</c> option.</param>
/// <param name="Out">The <c>--out</c> option.</param>
internal sealed record PayloadOutput(Option<bool> Hex, Option<bool> Text, Option<FileInfo> Out)
{
    /// <summary>Hands out a range of bytes in pieces (so a large range never needs one buffer), in order.</summary>
    internal delegate void ChunkSource(ChunkAction action);

    /// <summary>Receives one piece of the bytes.</summary>
    internal delegate void ChunkAction(ReadOnlySpan<byte> chunk);

    /// <summary>Adds the three options to <paramref name="command"/>, and a check that at most one is given.</summary>
    internal static PayloadOutput Add(Command command)
    {
        var output = new PayloadOutput(
            new Option<bool>("--hex") { Description = "Print the bytes as one line of lowercase hex." },
            new Option<bool>("--text") { Description = "Print the bytes as UTF-8 text, up to the first NUL byte (C string), and a newline." },
            new Option<FileInfo>("--out") { Description = "Write the bytes to this file instead of stdout.", HelpName = "path" });
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

    /// <summary>True when the bytes go to a file (<c>--out</c>) rather than stdout.</summary>
    internal bool IsFile(ParseResult parseResult) => parseResult.GetValue(Out) is not null;

    /// <summary>Writes the bytes <paramref name="source"/> hands out in the chosen form.</summary>
    /// <param name="parseResult">The parse result.</param>
    /// <param name="source">The bytes.</param>
    /// <param name="prefix">Text written to stdout before the bytes (not with <c>--out</c>), or null.</param>
    /// <param name="describeFile">The line printed after writing a file, given its full path.</param>
    internal void Write(ParseResult parseResult, ChunkSource source, string? prefix, Func<string, string> describeFile)
    {
        if (prefix is not null && !IsFile(parseResult))
        {
            Console.Out.Write(prefix);
        }

        if (parseResult.GetValue(Hex))
        {
            var line = new StringBuilder();
            source(chunk => line.Append(Convert.ToHexStringLower(chunk)));
            Console.Out.WriteLine(line.ToString());
        }
        else if (parseResult.GetValue(Text))
        {
            var bytes = new MemoryStream();
            bool ended = false;
            source(chunk =>
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
        else if (parseResult.GetValue(Out) is { } file)
        {
            using (var stream = file.Create())
            {
                source(chunk => stream.Write(chunk));
            }

            Console.Out.WriteLine(describeFile(file.FullName));
        }
        else
        {
            Console.Out.Flush();
            using var stdout = Console.OpenStandardOutput();
            source(chunk => stdout.Write(chunk));
        }
    }
}
