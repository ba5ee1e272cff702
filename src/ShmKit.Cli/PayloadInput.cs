using System.CommandLine;
using System.Globalization;
using System.Text;

namespace ShmKit.Cli;

/// <summary>
/// Where a command's bytes come from: <c>--text</c>, <c>--hex</c>, <c>--file</c>, or stdin when none is given
/// (<c>shmkit write</c>, <c>shmkit msg send</c>). See <see cref="Add"/>.
/// </summary>
/// <remarks>
/// <para><b>Exactly the bytes given.</b> On Linux an argument is bytes; .NET decodes it as UTF-8 and replaces what
/// is not UTF-8 with U+FFFD, so re-encoding <c>--text</c> would turn <c>ff fe 61 62 63</c> into 11 other bytes. When
/// the decoded text holds a U+FFFD, the argument's own bytes are taken from <c>/proc/self/cmdline</c> instead; if they
/// cannot be found there, the command refuses (use <c>--hex</c>) rather than change them.</para>
/// <para><b>Bounded.</b> stdin and <c>--file</c> are read only up to what fits the destination (the room in the
/// segment, msgmax for a queue): one byte more and the command fails with a size error, without reading the rest.</para>
/// </remarks>
/// <param name="Text">The <c>--text</c> option.</param>
/// <param name="Hex">The <c>--hex</c> option.</param>
/// <param name="File">The <c>--file</c> option.</param>
internal sealed record PayloadInput(Option<string> Text, Option<string> Hex, Option<FileInfo> File)
{
    private const int ReadChunk = 1 << 16;

    /// <summary>Describes bytes that do not fit: given "12 bytes" or "more than 96 bytes", the whole message.</summary>
    internal delegate string TooLarge(string amount);

    /// <summary>Adds the three options to <paramref name="command"/>, and a check that at most one is given.</summary>
    /// <param name="command">The command.</param>
    /// <param name="verb">What the command does with the bytes, capitalized, for help texts ("Write", "Send").</param>
    internal static PayloadInput Add(Command command, string verb)
    {
        var input = new PayloadInput(
            new Option<string>("--text") { Description = $"{verb} the bytes of this argument as they are (UTF-8 as typed; bytes that are not UTF-8 are kept, never re-encoded; no NUL is added).", HelpName = "text" },
            new Option<string>("--hex") { Description = $"{verb} these bytes, in hex: 'deadbeef', 'de ad be ef' or 'de:ad:be:ef'.", HelpName = "hex" },
            new Option<FileInfo>("--file") { Description = $"{verb} the contents of this file.", HelpName = "path" });
        command.Options.Add(input.Text);
        command.Options.Add(input.Hex);
        command.Options.Add(input.File);
        command.Validators.Add(result =>
        {
            int sources = (result.GetResult(input.Text) is null ? 0 : 1) + (result.GetResult(input.Hex) is null ? 0 : 1) + (result.GetResult(input.File) is null ? 0 : 1);
            if (sources > 1)
            {
                result.AddError("give only one of --text, --hex and --file");
            }
        });
        return input;
    }

    /// <summary>
    /// The bytes given on the command line (<c>--text</c>, <c>--hex</c>), or null when they come from a file or stdin.
    /// Call it before opening the destination, so that bad hex is a usage error whatever the destination.
    /// </summary>
    /// <exception cref="FormatException">Bad hex.</exception>
    /// <exception cref="ArgumentException">--text not UTF-8 and its bytes not found on the command line.</exception>
    internal byte[]? ReadArgument(ParseResult parseResult) =>
        parseResult.GetValue(Text) is { } text ? TextBytes(text)
        : parseResult.GetValue(Hex) is { } hex ? CliParsing.ParseHex(hex)
        : null;

    /// <summary>The bytes: <paramref name="given"/> (from <see cref="ReadArgument"/>), or the file's, or stdin's; at most <paramref name="maxBytes"/> of them.</summary>
    /// <param name="parseResult">The parse result.</param>
    /// <param name="given">The bytes from the command line, or null.</param>
    /// <param name="verb">What the command does, lowercase, for the message when stdin is a terminal ("write", "send").</param>
    /// <param name="maxBytes">The most bytes the destination takes.</param>
    /// <param name="tooLarge">The message when there are more.</param>
    /// <exception cref="ArgumentException">Nothing given and stdin is a terminal.</exception>
    /// <exception cref="CliException">More than <paramref name="maxBytes"/> bytes (exit code <see cref="CliErrors.TooLarge"/>).</exception>
    internal byte[] Read(ParseResult parseResult, byte[]? given, string verb, long maxBytes, TooLarge tooLarge)
    {
        byte[] bytes;
        if (given is not null)
        {
            bytes = given;
        }
        else if (parseResult.GetValue(File) is { } file)
        {
            using var stream = file.OpenRead();
            if (stream.CanSeek && stream.Length > maxBytes)
            {
                throw TooLargeError(tooLarge, Bytes(stream.Length));
            }

            bytes = ReadBounded(stream, maxBytes, tooLarge);
        }
        else
        {
            if (!Console.IsInputRedirected)
            {
                throw new ArgumentException($"nothing to {verb}: give --text, --hex or --file, or pipe the bytes to stdin.");
            }

            using var stdin = Console.OpenStandardInput();
            bytes = ReadBounded(stdin, maxBytes, tooLarge);
        }

        return bytes.LongLength > maxBytes ? throw TooLargeError(tooLarge, Bytes(bytes.LongLength)) : bytes;
    }

    /// <summary>Reads <paramref name="stream"/> to its end, failing as soon as it passes <paramref name="maxBytes"/>.</summary>
    private static byte[] ReadBounded(Stream stream, long maxBytes, TooLarge tooLarge)
    {
        long limit = Math.Min(maxBytes, Array.MaxLength - 1);
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[ReadChunk];
        int n;
        while ((n = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, limit - buffer.Length + 1))) > 0)
        {
            buffer.Write(chunk, 0, n);
            if (buffer.Length > limit)
            {
                throw TooLargeError(tooLarge, limit < maxBytes
                    ? string.Create(CultureInfo.InvariantCulture, $"more than {limit} bytes (the most shmkit takes at once; write it in parts with --offset)")
                    : "more than " + Bytes(maxBytes));
            }
        }

        return buffer.ToArray();
    }

    private static CliException TooLargeError(TooLarge tooLarge, string amount) => new(tooLarge(amount), CliErrors.TooLarge);

    /// <summary>"1 byte", "96 bytes".</summary>
    internal static string Bytes(long count) =>
        string.Create(CultureInfo.InvariantCulture, $"{count} byte{(count == 1 ? string.Empty : "s")}");

    /// <summary>
    /// The bytes of the <c>--text</c> argument: its UTF-8 encoding when it decoded cleanly; otherwise its raw bytes
    /// from the command line.
    /// </summary>
    private static byte[] TextBytes(string text)
    {
        if (!text.Contains('\uFFFD', StringComparison.Ordinal))
        {
            return Encoding.UTF8.GetBytes(text);
        }

        return RawArgument(text) ?? throw new ArgumentException(
            "--text: the argument is not valid UTF-8, and its bytes could not be read back from the command line; give them with --hex instead (shmkit never re-encodes bytes).");
    }

    /// <summary>
    /// The raw bytes of the <c>--text</c> value whose decoded form is <paramref name="text"/>, read from
    /// /proc/self/cmdline (whose last arguments are this program's), or null when not found for certain.
    /// </summary>
    private static byte[]? RawArgument(string text)
    {
        string[] decoded = Environment.GetCommandLineArgs()[1..];
        byte[][] raw;
        try
        {
            byte[] cmdline = System.IO.File.ReadAllBytes("/proc/self/cmdline");
            var parts = new List<byte[]>();
            int start = 0;
            for (int i = 0; i < cmdline.Length; i++)
            {
                if (cmdline[i] == 0)
                {
                    parts.Add(cmdline[start..i]);
                    start = i + 1;
                }
            }

            raw = [.. parts];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        if (raw.Length < decoded.Length)
        {
            return null;
        }

        raw = raw[^decoded.Length..];
        byte[]? found = null;
        for (int i = 0; i < decoded.Length; i++)
        {
            byte[]? candidate = null;
            if (decoded[i] == "--text" && i + 1 < decoded.Length && decoded[i + 1] == text)
            {
                candidate = raw[i + 1];
            }
            else if (decoded[i] == "--text=" + text || decoded[i] == "--text:" + text)
            {
                candidate = raw[i]["--text=".Length..];
            }

            if (candidate is null || Encoding.UTF8.GetString(candidate) != text)
            {
                continue; // not this argument (or the arguments do not line up with cmdline: not sure)
            }

            if (found is not null && !found.AsSpan().SequenceEqual(candidate))
            {
                return null; // two different byte strings decode to the same text: not sure which
            }

            found = candidate;
        }

        return found;
    }
}
