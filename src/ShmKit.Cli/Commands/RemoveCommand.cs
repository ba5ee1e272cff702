using System.CommandLine;
using System.Globalization;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit rm</c>: removes objects of any kind (IPC_RMID) by key or id, like <c>ipcrm</c>: a key removes every
/// object with that key (a segment, a semaphore set and a queue may share one), and says which kinds it removed; an
/// id used by several kinds needs <c>--kind</c>. Tries every one named, reports each, and exits non-zero if any
/// failed. <c>shmkit sem rm</c> and <c>shmkit msg rm</c> remove only their kind.
/// </summary>
internal static class RemoveCommand
{
    internal static Command Create()
    {
        var kind = AnyKind.KindOption();
        var json = new Option<bool>("--json") { Description = "Print what was removed as a JSON array of {\"kind\", \"id\", \"key\"} (failures still go to stderr)." };
        var command = new Command("rm", "Remove segments, semaphore sets and message queues by key or --id, like ipcrm: a key removes every kind of object with that key. A segment disappears once the last process detaches; waiters on a set or queue wake with an error at once.")
        {
            kind, json,
        };
        var targets = CliParsing.AddKeyOrId(command, "object", many: true);
        command.SetAction(parseResult =>
        {
            var removed = new List<AnyObject>();
            int exitCode = AnyKind.ForEach(parseResult, targets, kind, o =>
            {
                o.Remove();
                removed.Add(o);
                if (!parseResult.GetValue(json))
                {
                    Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"removed {o}"));
                }
            });
            if (parseResult.GetValue(json))
            {
                CliConsole.WriteJson(writer => AnyKind.WriteJsonArray(writer, removed));
            }

            return exitCode;
        });
        return command;
    }
}
