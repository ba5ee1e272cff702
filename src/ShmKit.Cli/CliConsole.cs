using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;

namespace ShmKit.Cli;

/// <summary>
/// Output shared by every command. Tables go through <see cref="Out"/>, a Spectre console that writes plain text
/// (no ANSI codes, no colours, wide enough not to wrap) when stdout is redirected or NO_COLOR is set, so
/// <c>shmkit list | grep</c> and scripts see clean text. JSON (<see cref="WriteJson"/>) never goes through Spectre.
/// </summary>
internal static class CliConsole
{
    private static readonly Lazy<IAnsiConsole> s_out = new(CreateConsole);

    /// <summary>The console for tables and human-readable text.</summary>
    internal static IAnsiConsole Out => s_out.Value;

    /// <summary>True when output is for a program or file rather than a terminal: no colour, no box drawing.</summary>
    internal static bool IsPlain { get; } =
        Console.IsOutputRedirected || Environment.GetEnvironmentVariable("NO_COLOR") is { Length: > 0 };

    /// <summary><paramref name="border"/> on a terminal; plain ASCII borders when <see cref="IsPlain"/>.</summary>
    internal static TableBorder Border(TableBorder border) => IsPlain ? TableBorder.Ascii : border;

    /// <summary>
    /// Writes one JSON document (indented, camelCase names chosen by the caller, UTF-8, no escaping of
    /// non-ASCII text beyond what JSON needs) to stdout, followed by a newline.
    /// </summary>
    internal static void WriteJson(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions
        {
            Indented = true,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }))
        {
            write(writer);
        }

        buffer.WriteByte((byte)'\n');
        using var stdout = Console.OpenStandardOutput();
        Console.Out.Flush();
        buffer.WriteTo(stdout);
    }

    /// <summary>Writes a timestamp as ISO 8601 UTC, or null.</summary>
    internal static void WriteTime(Utf8JsonWriter writer, string name, DateTimeOffset? time)
    {
        if (time is { } t)
        {
            writer.WriteString(name, t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    /// <summary>A timestamp for people, in local time, or "not set" as ipcs says.</summary>
    internal static string FormatTime(DateTimeOffset? time) =>
        time is { } t ? t.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture) : "not set";

    /// <summary>A byte count with its binary-unit form when that is shorter, as in <c>1048576 (1 MiB)</c>.</summary>
    internal static string FormatBytes(ulong bytes)
    {
        string exact = bytes.ToString(CultureInfo.InvariantCulture);
        if (bytes < 1024)
        {
            return exact;
        }

        string[] units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{exact} ({value:0.##} {units[unit]})");
    }

    /// <summary>A plain-text cell (never interpreted as Spectre markup, so brackets in names are safe).</summary>
    internal static Text Cell(string text) => new(text);

    private static IAnsiConsole CreateConsole()
    {
        bool plain = IsPlain;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = plain ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = plain ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = plain ? InteractionSupport.No : InteractionSupport.Detect,
            Out = new AnsiConsoleOutput(Console.Out),
        });
        if (plain)
        {
            // Redirected output has no width; Spectre would assume 80 columns and wrap long rows.
            console.Profile.Width = 400;
        }

        return console;
    }
}
