using System.CommandLine;

namespace ShmKit.Cli;

/// <summary>
/// The options every <c>create</c> command shares: <c>--key</c> (open-or-create that key), <c>--private</c> (the
/// default without a key) and <c>--exclusive</c> (fail if the key is taken), and the open-or-create logic itself.
/// See <see cref="Add"/>.
/// </summary>
/// <param name="Key">The <c>--key</c> option.</param>
/// <param name="Private">The <c>--private</c> option.</param>
/// <param name="Exclusive">The <c>--exclusive</c> option.</param>
internal sealed record CreateKeyOptions(Option<string> Key, Option<bool> Private, Option<bool> Exclusive)
{
    /// <summary>Adds the three options to <paramref name="command"/>, and a check that --key and --private are not both given.</summary>
    /// <param name="command">The create command.</param>
    /// <param name="objectName">What it creates, for help texts ("segment").</param>
    internal static CreateKeyOptions Add(Command command, string objectName)
    {
        var options = new CreateKeyOptions(
            new Option<string>("--key") { Description = $"The key: 0x1a2b, 6699 or path:projid (ftok). Without it the {objectName} is private (IPC_PRIVATE).", HelpName = "key" },
            new Option<bool>("--private") { Description = $"Make a private {objectName} (IPC_PRIVATE), found only by its id. The default when no --key is given." },
            new Option<bool>("--exclusive") { Description = $"Fail if a {objectName} with the key exists (IPC_EXCL) instead of opening it." });
        command.Options.Add(options.Key);
        command.Options.Add(options.Private);
        command.Options.Add(options.Exclusive);
        command.Validators.Add(result =>
        {
            if (result.GetResult(options.Key) is not null && result.GetValue(options.Private))
            {
                result.AddError($"--key and --private contradict each other: a private {objectName} has no key");
            }
        });
        return options;
    }

    /// <summary>
    /// Creates the object: private without <c>--key</c>; with a key, new (IPC_EXCL) or, unless <c>--exclusive</c>,
    /// the existing one opened with <paramref name="openExisting"/>.
    /// </summary>
    /// <returns>The object, and whether this call created it.</returns>
    internal (T Object, bool Created) CreateOrOpen<T>(ParseResult parseResult, Func<T> createPrivate, Func<IpcKey, T> createNew, Func<IpcKey, T> openExisting)
    {
        if (parseResult.GetValue(Key) is not { } keyText)
        {
            return (createPrivate(), true);
        }

        var key = new IpcTarget(keyText, null).ParseKey();
        try
        {
            return (createNew(key), true);
        }
        catch (IpcObjectExistsException) when (!parseResult.GetValue(Exclusive))
        {
            return (openExisting(key), false);
        }
    }

    /// <summary>
    /// The object's mode after a create command: the one asked for when it was created, the existing one otherwise
    /// (null when this user may not read it).
    /// </summary>
    internal static UnixFileMode? ActualMode(bool created, UnixFileMode asked, Func<IpcObjectInfo> stat)
    {
        if (created)
        {
            return asked;
        }

        try
        {
            return stat().Mode;
        }
        catch (Exception e) when (e is IpcException or IpcAccessDeniedException)
        {
            return null;
        }
    }

    /// <summary>
    /// What the line printed after opening an existing object says about the mode: nothing, unless <c>--mode</c> was
    /// given and differs from the object's, which a create never changes (as ipcmk does not) — then how to change it.
    /// </summary>
    internal string ModeNote(ParseResult parseResult, Option<UnixFileMode> mode, bool created, UnixFileMode? actual)
    {
        var asked = parseResult.GetValue(mode);
        if (created || parseResult.GetResult(mode) is not { Implicit: false } || actual is not { } existing || existing == asked)
        {
            return string.Empty;
        }

        string key = parseResult.GetValue(Key) ?? string.Empty;
        return $"; its mode stays {CliParsing.FormatMode(existing)}: --mode applies only when creating; to change it: shmkit chmod {CliParsing.FormatMode(asked)} {key}";
    }

    /// <summary>Writes <c>"mode": "0600"</c>, or null when the mode cannot be read.</summary>
    internal static void WriteMode(System.Text.Json.Utf8JsonWriter writer, UnixFileMode? mode)
    {
        if (mode is { } m)
        {
            writer.WriteString("mode", CliParsing.FormatMode(m));
        }
        else
        {
            writer.WriteNull("mode");
        }
    }
}
