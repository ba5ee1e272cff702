using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using ShmKit.Interop;

namespace ShmKit;

/// <summary>
/// A System V IPC key (<c>key_t</c>): the name under which unrelated processes find the same segment,
/// semaphore set or message queue. Either an explicit number, <see cref="Private"/> (IPC_PRIVATE: always a
/// new object, reachable only by its id), or a key derived from a file with <see cref="FromPath"/> (ftok).
/// </summary>
/// <remarks>
/// The text form follows util-linux <c>ipcrm</c>/<c>ipcs</c>: <c>0x1a2b</c> (hexadecimal), <c>6699</c>
/// (decimal, may be negative) or <c>path:projid</c> (ftok of an existing path with a project id 1..255).
/// <see cref="ToString()"/> prints the key as <c>ipcs</c> does, as eight hex digits.
/// </remarks>
public readonly struct IpcKey : IEquatable<IpcKey>, ISpanFormattable, IParsable<IpcKey>
{
    /// <summary>Creates a key with an explicit value. Zero is <see cref="Private"/>.</summary>
    /// <param name="value">The raw <c>key_t</c> value.</param>
    public IpcKey(int value) => Value = value;

    /// <summary>IPC_PRIVATE: asks the kernel for a new object that has no key and is found only by its id.</summary>
    public static IpcKey Private => default;

    /// <summary>The raw <c>key_t</c> value.</summary>
    public int Value { get; }

    /// <summary>True for <see cref="Private"/> (key 0).</summary>
    public bool IsPrivate => Value == Ipc.IPC_PRIVATE;

    /// <summary>
    /// Derives a key from an existing file or directory and a project id, as ftok(3) does: every process that
    /// passes the same path and id gets the same key while the file exists (it uses the inode, not the name).
    /// </summary>
    /// <param name="path">An existing file or directory.</param>
    /// <param name="projectId">1..255; only the low 8 bits are used by ftok, and 0 is reserved.</param>
    /// <exception cref="FileNotFoundException">The path does not exist.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="projectId"/> is outside 1..255.</exception>
    public static IpcKey FromPath(string path, int projectId)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(projectId, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(projectId, 255);
        int key = Ipc.ftok(path, projectId);
        if (key == -1)
        {
            throw IpcErrors.ForFtok(Errno.Last, path);
        }

        return new IpcKey(key);
    }

    /// <summary>Parses <c>0x1a2b</c>, <c>6699</c> or <c>path:projid</c>.</summary>
    /// <param name="s">The text.</param>
    /// <exception cref="FormatException">The text is none of the three forms.</exception>
    /// <exception cref="FileNotFoundException">A <c>path:projid</c> key names a path that does not exist.</exception>
    public static IpcKey Parse(string s) => Parse(s, provider: null);

    /// <inheritdoc cref="Parse(string)"/>
    /// <param name="s">The text.</param>
    /// <param name="provider">Ignored: keys are culture-invariant.</param>
    public static IpcKey Parse(string s, IFormatProvider? provider)
    {
        ArgumentNullException.ThrowIfNull(s);
        string text = s.Trim();
        int colon = text.LastIndexOf(':');
        if (colon > 0)
        {
            string path = text[..colon];
            string id = text[(colon + 1)..];
            if (!TryParseProjectId(id, out int projectId))
            {
                throw new FormatException($"'{s}' is not a valid key: the project id after ':' must be a number from 1 to 255 (as in '/tmp/app:65').");
            }

            return FromPath(path, projectId);
        }

        if (TryParseNumber(text, out int value))
        {
            return new IpcKey(value);
        }

        throw new FormatException($"'{s}' is not a valid key: use hexadecimal (0x1a2b), decimal (6699) or path:projid (/tmp/app:65).");
    }

    /// <summary>Tries to parse a key without throwing; a <c>path:projid</c> whose path is missing fails too.</summary>
    /// <param name="s">The text.</param>
    /// <param name="result">The key, when the text is valid.</param>
    /// <returns>True when <paramref name="s"/> is a valid key.</returns>
    public static bool TryParse([NotNullWhen(true)] string? s, out IpcKey result) => TryParse(s, provider: null, out result);

    /// <inheritdoc cref="TryParse(string?, out IpcKey)"/>
    /// <param name="s">The text.</param>
    /// <param name="provider">Ignored: keys are culture-invariant.</param>
    /// <param name="result">The key, when the text is valid.</param>
    public static bool TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider, out IpcKey result)
    {
        result = default;
        if (string.IsNullOrWhiteSpace(s))
        {
            return false;
        }

        try
        {
            result = Parse(s, provider);
            return true;
        }
        catch (Exception e) when (e is FormatException or FileNotFoundException or IpcException or UnauthorizedAccessException or ArgumentException)
        {
            return false;
        }
    }

    internal static bool TryParseNumber(string text, out int value)
    {
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            // Keys print as unsigned hex (0xffffffff is -1), so accept the full 32-bit range.
            bool ok = uint.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint hex);
            value = unchecked((int)hex);
            return ok && text.Length > 2;
        }

        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
        {
            return true;
        }

        // Decimal values above int.MaxValue are how some tools print negative keys.
        if (uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out uint big))
        {
            value = unchecked((int)big);
            return true;
        }

        return false;
    }

    private static bool TryParseProjectId(string text, out int projectId)
    {
        if (TryParseNumber(text, out projectId) && projectId is >= 1 and <= 255)
        {
            return true;
        }

        // ipcmk-style single characters ('A') are common in C examples: ftok(path, 'A'). A digit is a number,
        // never a character: "path:0" is the reserved id 0 and must fail, not silently become '0' (48).
        if (text.Length == 1 && text[0] is > ' ' and < (char)128 && !char.IsAsciiDigit(text[0]))
        {
            projectId = text[0];
            return true;
        }

        return false;
    }

    /// <summary>The key as <c>ipcs</c> prints it: <c>0x</c> and eight hex digits.</summary>
    /// <returns>For example <c>0x00001a2b</c>.</returns>
    public override string ToString() => "0x" + unchecked((uint)Value).ToString("x8", CultureInfo.InvariantCulture);

    /// <inheritdoc/>
    public string ToString(string? format, IFormatProvider? formatProvider) =>
        string.IsNullOrEmpty(format) ? ToString() : Value.ToString(format, formatProvider);

    /// <inheritdoc/>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        if (format.IsEmpty)
        {
            if (destination.Length < 10)
            {
                charsWritten = 0;
                return false;
            }

            destination[0] = '0';
            destination[1] = 'x';
            bool ok = unchecked((uint)Value).TryFormat(destination[2..], out int hexChars, "x8", CultureInfo.InvariantCulture);
            charsWritten = ok ? hexChars + 2 : 0;
            return ok;
        }

        return Value.TryFormat(destination, out charsWritten, format, provider);
    }

    /// <inheritdoc/>
    public bool Equals(IpcKey other) => Value == other.Value;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is IpcKey other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Value;

    /// <summary>Compares two keys.</summary>
    /// <param name="left">A key.</param>
    /// <param name="right">Another key.</param>
    public static bool operator ==(IpcKey left, IpcKey right) => left.Equals(right);

    /// <summary>Compares two keys.</summary>
    /// <param name="left">A key.</param>
    /// <param name="right">Another key.</param>
    public static bool operator !=(IpcKey left, IpcKey right) => !left.Equals(right);
}
