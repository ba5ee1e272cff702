using System.CommandLine;
using System.Globalization;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit chmod MODE KEY...</c>: sets the permission bits (IPC_SET) of objects of any kind, named by key (every
/// kind with that key) or <c>--id</c>, in the argument order of chmod(1). Only the owner, the creator or root may.
/// </summary>
internal static class ChmodCommand
{
    internal static Command Create()
    {
        var mode = new Argument<UnixFileMode>("mode")
        {
            Description = "The permission bits in octal, as in 0640 or 600 (0000 to 0777).",
            HelpName = "mode",
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
                if (!CliParsing.TryParseMode(text, out UnixFileMode parsed, out string error))
                {
                    result.AddError("mode: " + error);
                }

                return parsed;
            },
        };
        var kind = AnyKind.KindOption();
        var command = new Command("chmod", "Set the permission bits of segments, semaphore sets and message queues, by key (every kind with that key) or --id: shmkit chmod 0640 0x1234.")
        {
            mode, kind,
        };
        var targets = CliParsing.AddKeyOrId(command, "object", many: true);
        command.SetAction(parseResult =>
        {
            var bits = parseResult.GetValue(mode);
            return AnyKind.ForEach(parseResult, targets, kind, o =>
            {
                string before = Describe(o);
                o.SetMode(bits);
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{o}: mode {before}{CliParsing.FormatMode(bits)}"));
            });
        });
        return command;
    }

    /// <summary>"0600 -> " when the old mode can be read (it needs read permission), else nothing.</summary>
    private static string Describe(AnyObject o)
    {
        try
        {
            return CliParsing.FormatMode(o.Stat().Mode) + " -> ";
        }
        catch (Exception e) when (e is IpcException or IpcAccessDeniedException)
        {
            return string.Empty;
        }
    }
}
