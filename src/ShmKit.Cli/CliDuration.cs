using System.CommandLine;
using System.Globalization;

namespace ShmKit.Cli;

/// <summary>Durations on the command line: <c>250ms</c>, <c>5s</c>, <c>2m</c>, <c>1h</c>, or a bare number of seconds.</summary>
internal static class CliDuration
{
    internal static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        string t = text.Trim().ToLowerInvariant();
        (string number, double scale) = t switch
        {
            _ when t.EndsWith("ms", StringComparison.Ordinal) => (t[..^2], 0.001),
            _ when t.EndsWith('s') => (t[..^1], 1.0),
            _ when t.EndsWith('m') => (t[..^1], 60.0),
            _ when t.EndsWith('h') => (t[..^1], 3600.0),
            _ => (t, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double amount) || amount < 0 || amount * scale > int.MaxValue / 1000.0)
        {
            return false;
        }

        value = TimeSpan.FromSeconds(amount * scale);
        return true;
    }

    /// <summary>An option holding a duration, with a default.</summary>
    internal static Option<TimeSpan> Option(string name, string description, TimeSpan defaultValue) => new(name)
    {
        Description = description + " Units: ms, s, m, h.",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            if (TryParse(text, out TimeSpan value))
            {
                return value;
            }

            result.AddError($"'{text}' is not a duration for {name}: use for example 500ms, 5s, 2m.");
            return default;
        },
    };
}
