using System.CommandLine;
using System.Text;

namespace ShmKit.Cli;

/// <summary>
/// Where a command's bytes come from: <c>--text</c> (UTF-8), <c>--hex</c>, <c>--file</c>, or stdin when none is
/// given (<c>shmkit write</c>, <c>shmkit msg send</c>). See <see cref="Add"/>.
/// </summary>
/// <param name="Text">The <c>--text</c> option.</param>
/// <param name="Hex">The <c>--hex</c> option.</param>
/// <param name="File">The <c>--file</c> option.</param>
internal sealed record PayloadInput(Option<string> Text, Option<string> Hex, Option<FileInfo> File)
{
    /// <summary>Adds the three options to <paramref name="command"/>, and a check that at most one is given.</summary>
    /// <param name="command">The command.</param>
    /// <param name="verb">What the command does with the bytes, capitalized, for help texts ("Write", "Send").</param>
    internal static PayloadInput Add(Command command, string verb)
    {
        var input = new PayloadInput(
            new Option<string>("--text") { Description = $"{verb} this text, UTF-8 encoded (no terminating NUL is added).", HelpName = "text" },
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

    /// <summary>The bytes: from the option given, or all of stdin.</summary>
    /// <param name="parseResult">The parse result.</param>
    /// <param name="verb">What the command does, lowercase, for the message when stdin is a terminal ("write", "send").</param>
    /// <exception cref="FormatException">Bad hex.</exception>
    /// <exception cref="ArgumentException">Nothing given and stdin is a terminal.</exception>
    internal byte[] Read(ParseResult parseResult, string verb) =>
        parseResult.GetValue(Text) is { } t ? Encoding.UTF8.GetBytes(t)
        : parseResult.GetValue(Hex) is { } h ? CliParsing.ParseHex(h)
        : parseResult.GetValue(File) is { } f ? System.IO.File.ReadAllBytes(f.FullName)
        : ReadStdin(verb);

    private static byte[] ReadStdin(string verb)
    {
        if (!Console.IsInputRedirected)
        {
            throw new ArgumentException($"nothing to {verb}: give --text, --hex or --file, or pipe the bytes to stdin.");
        }

        using var stdin = Console.OpenStandardInput();
        using var buffer = new MemoryStream();
        stdin.CopyTo(buffer);
        return buffer.ToArray();
    }
}
