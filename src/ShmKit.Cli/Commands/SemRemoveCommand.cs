using System.CommandLine;
using System.Globalization;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit sem rm</c>: removes semaphore sets (IPC_RMID), like <c>ipcrm -S key</c> / <c>ipcrm -s id</c>. Tries
/// every one named, reports each, and exits non-zero if any failed.
/// </summary>
internal static class SemRemoveCommand
{
    internal static Command Create()
    {
        var command = new Command("rm", "Remove semaphore sets by key or --id, like ipcrm; processes waiting on one wake with an error at once.");
        var targets = CliParsing.AddKeyOrId(command, SemSets.ObjectName, many: true);
        command.SetAction(parseResult => targets.ForEachTarget(parseResult, target =>
        {
            var set = SemSets.Open(target);
            set.Remove();
            string key = set.Key.IsPrivate ? string.Empty : $" (key {set.Key})";
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"removed semaphore set id {set.Id}{key}"));
        }));
        return command;
    }
}
