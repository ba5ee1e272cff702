using System.CommandLine;
using System.Globalization;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit msg rm</c>: removes message queues (IPC_RMID) and the messages in them, like <c>ipcrm -Q key</c> /
/// <c>ipcrm -q id</c>. Tries every one named, reports each, and exits non-zero if any failed.
/// </summary>
internal static class MsgRemoveCommand
{
    internal static Command Create()
    {
        var command = new Command("rm", "Remove message queues (and their messages) by key or --id, like ipcrm; processes waiting on one wake with an error at once.");
        var targets = CliParsing.AddKeyOrId(command, MsgQueues.ObjectName, many: true);
        command.SetAction(parseResult => targets.ForEachTarget(parseResult, target =>
        {
            var queue = MsgQueues.Open(target);
            queue.Remove();
            string key = queue.Key.IsPrivate ? string.Empty : $" (key {queue.Key})";
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"removed message queue id {queue.Id}{key}"));
        }));
        return command;
    }
}
