using System.Globalization;

namespace ShmKit.Cli;

/// <summary>One object named on the command line: by key text (parsed with <see cref="IpcKey.Parse(string)"/>) or by id.</summary>
/// <param name="KeyText">The key as typed, or null when named by id.</param>
/// <param name="Id">The id, or null when named by key.</param>
internal readonly record struct IpcTarget(string? KeyText, int? Id)
{
    /// <summary>Parses the key; rejects IPC_PRIVATE (0), which names no object.</summary>
    /// <exception cref="FormatException">The text is not a key.</exception>
    internal IpcKey ParseKey()
    {
        var key = IpcKey.Parse(KeyText!);
        if (key.IsPrivate)
        {
            throw new FormatException($"key '{KeyText}' is IPC_PRIVATE (0), which names no object: private objects are found by id (--id N).");
        }

        return key;
    }

    /// <summary>
    /// Opens the object this names, by id or by key. A key typed as a plain decimal number that names nothing gets a
    /// hint in the message: people often mean an id, which is written <c>--id N</c> (as ipcrm has -M key and -m id).
    /// </summary>
    /// <param name="openById">Opens by id.</param>
    /// <param name="openByKey">Opens by key.</param>
    /// <param name="objectName">What it is, for the hint ("segment", "semaphore set", "message queue").</param>
    /// <exception cref="IpcObjectNotFoundException">No such object.</exception>
    internal T Open<T>(Func<int, T> openById, Func<IpcKey, T> openByKey, string objectName)
    {
        if (Id is int id)
        {
            return openById(id);
        }

        var key = ParseKey();
        try
        {
            return openByKey(key);
        }
        catch (IpcObjectNotFoundException e) when (IsDecimalKey)
        {
            string number = KeyText!.Trim();
            throw new IpcObjectNotFoundException($"{e.Message} (A plain number is a key; to name the {objectName} with id {number}, write --id {number}.)", e);
        }
    }

    /// <summary>True when the key was typed as a plain decimal number, which people often mean as an id.</summary>
    internal bool IsDecimalKey =>
        KeyText is { Length: > 0 } text && text.Trim().All(char.IsAsciiDigit);

    /// <inheritdoc/>
    public override string ToString() =>
        Id is int id ? "id " + id.ToString(CultureInfo.InvariantCulture) : "key " + KeyText;
}
