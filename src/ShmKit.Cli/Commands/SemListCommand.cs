using System.CommandLine;

namespace ShmKit.Cli.Commands;

/// <summary><c>shmkit sem list</c>: every semaphore set on the host, like <c>ipcs -s</c>.</summary>
internal static class SemListCommand
{
    internal static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON array (stable camelCase field names) for scripts." };
        var command = new Command("list", "List every System V semaphore set on the host, like ipcs -s.") { json };
        command.SetAction(parseResult =>
        {
            var sets = SemaphoreSet.GetAll();
            if (parseResult.GetValue(json))
            {
                CliConsole.WriteJson(writer => SemSets.WriteJsonArray(writer, sets));
            }
            else
            {
                CliConsole.Out.Write(SemSets.CreateTable(sets));
            }

            return CliErrors.Success;
        });
        return command;
    }
}
