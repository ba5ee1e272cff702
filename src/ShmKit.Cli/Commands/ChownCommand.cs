using System.CommandLine;
using System.Globalization;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit chown USER[:GROUP] KEY...</c>: sets the owner and group (IPC_SET) of objects of any kind, named by key
/// (every kind with that key) or <c>--id</c>, in the argument order of chown(1). Names or numbers; <c>USER</c> alone
/// keeps the group, <c>:GROUP</c> keeps the owner, <c>USER:</c> takes the user's login group. Only the owner, the
/// creator or root may; the creator stays as it was.
/// </summary>
internal static class ChownCommand
{
    internal static Command Create()
    {
        var owner = new Argument<string>("owner") { Description = "USER, USER:GROUP, :GROUP or USER: (the user's login group); names or numbers." };
        var kind = AnyKind.KindOption();
        var command = new Command("chown", "Set the owner and group of segments, semaphore sets and message queues, by key (every kind with that key) or --id: shmkit chown nobody:nogroup 0x1234.")
        {
            owner, kind,
        };
        var targets = CliParsing.AddKeyOrId(command, "object", many: true);
        command.SetAction(parseResult =>
        {
            var (user, group) = ParseOwner(parseResult.GetValue(owner)!);
            return AnyKind.ForEach(parseResult, targets, kind, o =>
            {
                // The part not given stays: that needs the current values (IPC_STAT, read permission).
                var info = user is null || group is null ? o.Stat() : null;
                uint uid = user ?? info!.OwnerUserId;
                uint gid = group ?? info!.OwnerGroupId;
                o.SetOwner(uid, gid);
                string before = info is null ? string.Empty : $"{CliNames.User(info.OwnerUserId)}:{CliNames.Group(info.OwnerGroupId)} -> ";
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{o}: owner {before}{CliNames.User(uid)}:{CliNames.Group(gid)}"));
            });
        });
        return command;
    }

    /// <summary>The uid and gid to set; null for the part that stays.</summary>
    /// <exception cref="ArgumentException">An unknown name or a malformed owner (a usage error).</exception>
    private static (uint? User, uint? Group) ParseOwner(string text)
    {
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        string userText = colon < 0 ? text : text[..colon];
        string? groupText = colon < 0 ? null : text[(colon + 1)..];
        if (userText.Length == 0 && string.IsNullOrEmpty(groupText))
        {
            throw new ArgumentException($"'{text}' names no owner: give USER, USER:GROUP, :GROUP or USER:.");
        }

        uint? user = userText.Length == 0 ? null
            : CliNames.FindUser(userText) ?? throw new ArgumentException($"no user '{userText}' (not in /etc/passwd, not a number)");
        uint? group = groupText switch
        {
            null => null,
            "" => CliNames.LoginGroup(user!.Value) ?? throw new ArgumentException($"'{text}': the login group of '{userText}' is unknown; give the group after the colon."),
            _ => CliNames.FindGroup(groupText) ?? throw new ArgumentException($"no group '{groupText}' (not in /etc/group, not a number)"),
        };
        return (user, group);
    }
}
