using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace ShmKit.Cli;

/// <summary>
/// Parsing shared by every command: sizes and offsets (<c>4096</c>, <c>0x1000</c>, <c>64KiB</c>, <c>1M</c>),
/// permission modes in octal, hex byte strings, and options whose value is checked while parsing, so that a bad
/// value is a usage error (exit 2) with one clear line before any command runs.
/// </summary>
internal static class CliParsing
{
    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    private static readonly (string Suffix, int Shift)[] s_units =
    [
        ("kib", 10), ("mib", 20), ("gib", 30), ("tib", 40),
        ("k", 10), ("m", 20), ("g", 30), ("t", 40),
        ("b", 0),
    ];

    /// <summary>
    /// Parses a byte count: a decimal or <c>0x</c> hexadecimal number, optionally followed by a unit
    /// (B, K/KiB, M/MiB, G/GiB, T/TiB, case-insensitive, all powers of 1024).
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="value">The byte count.</param>
    /// <param name="error">Why the text was rejected.</param>
    /// <returns>True when the text is a valid, non-negative byte count that fits in a long.</returns>
    internal static bool TryParseByteCount(string text, out long value, out string error)
    {
        value = 0;
        string s = text.Trim();
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            if (s.Length == 2 || s.AsSpan(2).ContainsAnyExcept(HexDigits))
            {
                error = $"'{text}' is not a valid byte count: after 0x only hexadecimal digits may follow.";
                return false;
            }

            if (!long.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value) || value < 0)
            {
                value = 0;
                error = $"'{text}' is too large: a byte count must be below 8 EiB (0x8000000000000000).";
                return false;
            }

            error = string.Empty;
            return true;
        }

        if (s.Length > 2 && s[^1] is 'b' or 'B' && char.ToLowerInvariant(s[^2]) is 'k' or 'm' or 'g' or 't')
        {
            error = $"'{text}' is ambiguous ({s[^2..]} means 1000 or 1024 depending on who you ask): write {s[..^1]}iB or {s[..^1]} (powers of 1024), or the number of bytes.";
            return false;
        }

        int shift = 0;
        foreach (var (suffix, unitShift) in s_units)
        {
            if (s.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                s = s[..^suffix.Length].TrimEnd();
                shift = unitShift;
                break;
            }
        }

        if (s.Length == 0 || !s.All(char.IsAsciiDigit) || !long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long number))
        {
            error = $"'{text}' is not a valid byte count: use a number with an optional unit, as in 4096, 64KiB, 1MiB or 1G (units are powers of 1024).";
            return false;
        }

        if (number > long.MaxValue >> shift)
        {
            error = $"'{text}' is too large: a byte count must be below 8 EiB.";
            return false;
        }

        value = number << shift;
        error = string.Empty;
        return true;
    }

    /// <summary>Parses a byte count or throws <see cref="FormatException"/> (a usage error).</summary>
    internal static long ParseByteCount(string text) =>
        TryParseByteCount(text, out long value, out string error) ? value : throw new FormatException(error);

    /// <summary>Parses permission bits in octal (<c>600</c>, <c>0644</c>, <c>0o600</c>), at most 0777.</summary>
    /// <param name="text">The text.</param>
    /// <param name="mode">The permission bits.</param>
    /// <param name="error">Why the text was rejected.</param>
    /// <returns>True when valid.</returns>
    internal static bool TryParseMode(string text, out UnixFileMode mode, out string error)
    {
        mode = default;
        string s = text.Trim();
        if (s.StartsWith("0o", StringComparison.OrdinalIgnoreCase))
        {
            s = s[2..];
        }

        int bits = 0;
        bool ok = s.Length is > 0 and <= 4;
        foreach (char c in s)
        {
            ok &= c is >= '0' and <= '7';
            bits = (bits * 8) + (c - '0');
        }

        if (!ok || bits > 0x1FF)
        {
            error = $"'{text}' is not a valid mode: give the permission bits in octal, from 0000 to 0777 (as in 0600 or 644).";
            return false;
        }

        mode = (UnixFileMode)bits;
        error = string.Empty;
        return true;
    }

    /// <summary>Formats permission bits as four octal digits, as in <c>0644</c>.</summary>
    internal static string FormatMode(UnixFileMode mode) => "0" + Convert.ToString((int)mode & 0x1FF, 8).PadLeft(3, '0');

    /// <summary>
    /// Parses hexadecimal bytes: <c>deadbeef</c>, <c>de ad be ef</c>, <c>de:ad:be:ef</c>, with an optional
    /// leading <c>0x</c>; throws <see cref="FormatException"/> on anything else.
    /// </summary>
    internal static byte[] ParseHex(string text)
    {
        string s = text.Trim();
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            s = s[2..];
        }

        var digits = new System.Text.StringBuilder(s.Length);
        foreach (char c in s)
        {
            if (char.IsAsciiHexDigit(c))
            {
                digits.Append(c);
            }
            else if (!char.IsWhiteSpace(c) && c is not ':' and not '-')
            {
                throw new FormatException($"'{text}' is not valid hex: '{c}' is not a hexadecimal digit (write bytes as in 'de ad be ef' or 'deadbeef').");
            }
        }

        if (digits.Length % 2 != 0)
        {
            throw new FormatException($"'{text}' is not valid hex: it has an odd number of digits ({digits.Length}); each byte takes two.");
        }

        return Convert.FromHexString(digits.ToString());
    }

    /// <summary>
    /// Parses a whole number: decimal (<c>42</c>, <c>-7</c>) or hexadecimal after <c>0x</c> (<c>0x2a</c>, <c>-0x7</c>), as
    /// sizes and keys are written.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="value">The number.</param>
    /// <param name="tooLarge">True when the text is a number, but outside the range of a long.</param>
    /// <returns>True when the text is a whole number that fits in a long.</returns>
    internal static bool TryParseInteger(string text, out long value, out bool tooLarge)
    {
        value = 0;
        tooLarge = false;
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        bool negative = s.StartsWith("-");
        if (negative || s.StartsWith("+"))
        {
            s = s[1..];
        }

        bool hex = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        if (hex)
        {
            s = s[2..];
        }

        if (s.IsEmpty || (hex ? s.ContainsAnyExcept(HexDigits) : s.ContainsAnyExceptInRange('0', '9')))
        {
            return false;
        }

        // Parse the magnitude as an unsigned number so that -0x8000000000000000 (long.MinValue) fits.
        if (!ulong.TryParse(s, hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out ulong magnitude)
            || magnitude > (negative ? (ulong)long.MaxValue + 1 : long.MaxValue))
        {
            tooLarge = true;
            return false;
        }

        value = negative ? (long)(0 - magnitude) : (long)magnitude;
        return true;
    }

    /// <summary>
    /// An option holding a whole number of type <typeparamref name="T"/> in <paramref name="minimum"/>..<paramref name="maximum"/>,
    /// decimal or <c>0x</c> hex, validated while parsing with a message in the CLI's words (never "System.Int16").
    /// </summary>
    /// <param name="name">The option name, with dashes.</param>
    /// <param name="description">The help text.</param>
    /// <param name="minimum">The smallest value allowed.</param>
    /// <param name="maximum">The largest value allowed.</param>
    /// <param name="rangeHelp">What the range means, for the message when a value is outside it; null for "from MIN to MAX".</param>
    internal static Option<T> IntegerOption<T>(string name, string description, T minimum, T maximum, string? rangeHelp = null)
        where T : struct, IBinaryInteger<T> => new(name)
    {
        Description = description,
        HelpName = "n",
        CustomParser = result => ParseInteger(result, name, minimum, maximum, rangeHelp) ?? default,
    };

    /// <summary>As <see cref="IntegerOption{T}"/>, for an option that may be left out (null then).</summary>
    internal static Option<T?> OptionalIntegerOption<T>(string name, string description, T minimum, T maximum, string? rangeHelp = null)
        where T : struct, IBinaryInteger<T> => new(name)
    {
        Description = description,
        HelpName = "n",
        CustomParser = result => ParseInteger(result, name, minimum, maximum, rangeHelp),
    };

    private static T? ParseInteger<T>(ArgumentResult result, string name, T minimum, T maximum, string? rangeHelp)
        where T : struct, IBinaryInteger<T>
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        string range = rangeHelp ?? string.Create(CultureInfo.InvariantCulture, $"give a whole number from {minimum} to {maximum}");
        if (!TryParseInteger(text, out long value, out bool tooLarge))
        {
            result.AddError(tooLarge
                ? $"{name}: '{text}' is out of range: {range}."
                : $"{name}: '{text}' is not a whole number: {range} (decimal, or hex as in 0x1f).");
            return null;
        }

        if (value < long.CreateTruncating(minimum) || value > long.CreateTruncating(maximum))
        {
            result.AddError($"{name}: '{text}' is out of range: {range}.");
            return null;
        }

        return T.CreateTruncating(value);
    }

    /// <summary>An option holding a byte count (size, offset or length), validated while parsing.</summary>
    /// <param name="name">The option name, with dashes.</param>
    /// <param name="description">The help text.</param>
    /// <param name="minimum">The smallest value allowed (1 for sizes, 0 for offsets).</param>
    internal static Option<long> ByteCountOption(string name, string description, long minimum = 0) => new(name)
    {
        Description = description,
        HelpName = "bytes",
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            if (!TryParseByteCount(text, out long value, out string error))
            {
                result.AddError($"{name}: {error}");
            }
            else if (value < minimum)
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name}: must be at least {minimum} byte(s), not {text}."));
            }

            return value;
        },
    };

    /// <summary>A <c>--mode</c> option in octal, default 0600, validated while parsing.</summary>
    internal static Option<UnixFileMode> ModeOption()
    {
        var option = new Option<UnixFileMode>("--mode")
        {
            Description = "Permission bits in octal (default 0600: owner read and write).",
            HelpName = "octal",
            DefaultValueFactory = _ => SharedMemorySegment.DefaultMode,
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
                if (!TryParseMode(text, out UnixFileMode mode, out string error))
                {
                    result.AddError("--mode: " + error);
                }

                return mode;
            },
        };

        // Completion offers the usual modes in octal (not the names of UnixFileMode's flags).
        option.CompletionSources.Clear();
        option.CompletionSources.Add("0600", "0640", "0660", "0644", "0666");
        return option;
    }

    /// <summary>
    /// Parses a duration: a number followed by <c>ms</c>, <c>s</c>, <c>m</c> or <c>h</c> (<c>500ms</c>, <c>5s</c>,
    /// <c>1.5s</c>, <c>2m</c>); a bare number is seconds, as for timeout(1).
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="value">The duration.</param>
    /// <param name="error">Why the text was rejected.</param>
    /// <returns>True when the text is a valid duration of zero or more.</returns>
    internal static bool TryParseDuration(string text, out TimeSpan value, out string error)
    {
        value = TimeSpan.Zero;
        string s = text.Trim();
        (string Suffix, double Milliseconds)[] units = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)];
        double scale = 1000;
        foreach (var (suffix, milliseconds) in units)
        {
            if (s.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                s = s[..^suffix.Length].TrimEnd();
                scale = milliseconds;
                break;
            }
        }

        if (s.Length == 0 || !s.All(c => char.IsAsciiDigit(c) || c == '.')
            || !double.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number)
            || number * scale > int.MaxValue)
        {
            error = $"'{text}' is not a valid duration: use a number with a unit, as in 500ms, 5s, 1.5s or 2m (a bare number is seconds), up to about 24 days.";
            return false;
        }

        value = TimeSpan.FromMilliseconds(number * scale);
        error = string.Empty;
        return true;
    }

    /// <summary>A duration option (<c>--timeout</c>), validated while parsing; null when not given (wait without a limit).</summary>
    /// <param name="name">The option name, with dashes.</param>
    /// <param name="description">The help text.</param>
    internal static Option<TimeSpan?> DurationOption(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "duration",
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            if (!TryParseDuration(text, out TimeSpan value, out string error))
            {
                result.AddError($"{name}: {error}");
            }

            return value;
        },
    };

    /// <summary>
    /// A list of semaphore values (<c>--values 1,0,0</c>): comma-separated whole numbers 0..32767 (SEMVMX),
    /// validated while parsing.
    /// </summary>
    /// <param name="description">The help text.</param>
    internal static Option<short[]> SemaphoreValuesOption(string description) => new("--values")
    {
        Description = description,
        HelpName = "v1,v2,...",
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            string[] items = text.Split(',', StringSplitOptions.TrimEntries);
            var values = new short[items.Length];
            for (int i = 0; i < items.Length; i++)
            {
                if (!short.TryParse(items[i], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]))
                {
                    result.AddError($"--values: '{text}' is not a list of semaphore values: give whole numbers from 0 to 32767 separated by commas, as in 1,0,0 ('{items[i]}' is not one).");
                    return [];
                }
            }

            return values;
        },
    };

    /// <summary>
    /// Adds a positional key argument and a <c>--id</c> option to <paramref name="command"/>, exactly one of which
    /// must be given (or, with <paramref name="many"/>, one or more of either), and returns the pair.
    /// </summary>
    /// <param name="command">The command to extend.</param>
    /// <param name="objectName">What the key names, for help texts ("segment").</param>
    /// <param name="many">True for commands such as <c>rm</c> that take several objects.</param>
    internal static KeyOrIdArguments AddKeyOrId(Command command, string objectName, bool many = false)
    {
        string keyHelp = $"The {objectName}'s key: 0x1a2b (hex), 6699 (decimal) or path:projid (ftok). Omit it when --id is given.";
        string idHelp = $"Name the {objectName} by its id (as shown by list) instead of a key.";
        KeyOrIdArguments arguments = many
            ? new KeyOrIdArguments(
                new Argument<string[]>("key") { Description = keyHelp, Arity = ArgumentArity.ZeroOrMore },
                new Option<int[]>("--id") { Description = idHelp + " Repeat it for several.", HelpName = "id", CustomParser = r => [.. r.Tokens.Select(t => ParseId(r, t.Value))] })
            : new KeyOrIdArguments(
                new Argument<string?>("key") { Description = keyHelp, Arity = ArgumentArity.ZeroOrOne },
                new Option<int?>("--id") { Description = idHelp, HelpName = "id", CustomParser = r => r.Tokens.Count > 0 ? ParseId(r, r.Tokens[0].Value) : null });
        command.Arguments.Add(arguments.Keys);
        command.Options.Add(arguments.Ids);
        command.Validators.Add(result =>
        {
            IReadOnlyList<IpcTarget> targets;
            try
            {
                targets = arguments.GetTargets(result);
            }
            catch (InvalidOperationException)
            {
                return; // A value that did not parse (a bad --id): its parser has already reported it.
            }

            if (targets.Count == 0)
            {
                result.AddError($"name the {objectName}: give its key (0x1a2b, 6699 or path:projid) or --id N");
            }
            else if (!many && targets.Count > 1)
            {
                result.AddError($"give either a key or --id, not both (one {objectName} at a time)");
            }
        });
        return arguments;
    }

    /// <summary>
    /// The value of <paramref name="option"/> for a validator, or false when the value did not parse (its parser has
    /// already reported that, and <see cref="CommandResult.GetValue{T}(Option{T})"/> would throw).
    /// </summary>
    internal static bool TryGetValue<T>(CommandResult result, Option<T> option, out T? value)
    {
        try
        {
            value = result.GetValue(option);
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default;
            return false;
        }
    }

    private static int ParseId(ArgumentResult result, string text)
    {
        if (TryParseInteger(text, out long id, out _) && id is >= 0 and <= int.MaxValue)
        {
            return (int)id;
        }

        result.AddError($"--id: '{text}' is not an id; an id is a whole number of 0 or more, as list shows it.");
        return -1;
    }
}
