using System.CommandLine;
using System.Globalization;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit rm</c>: removes segments (IPC_RMID), like <c>ipcrm -M key</c> / <c>ipcrm -m id</c>. Tries every one
/// named, reports each, and exits non-zero if any failed.
/// </summary>
internal static class ShmRemoveCommand
{
    internal static Command Create()
    {
        var command = new Command("rm", "Remove segments by key or --id, like ipcrm; each disappears once the last process detaches.");
        var targets = CliParsing.AddKeyOrId(command, "segment", many: true);
        command.SetAction(parseResult => targets.ForEachTarget(parseResult, target =>
        {
            var segment = ShmSegments.Open(target);
            segment.Remove();
            string key = segment.Key.IsPrivate ? string.Empty : $" (key {segment.Key})";
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"removed shared memory segment id {segment.Id}{key}"));
        }));
        return command;
    }
}
