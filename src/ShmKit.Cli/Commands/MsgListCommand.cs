using System.CommandLine;

namespace ShmKit.Cli.Commands;

/// <summary><c>shmkit msg list</c>: every message queue on the host, like <c>ipcs -q</c>.</summary>
internal static class MsgListCommand
{
    internal static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON array (stable camelCase field names) for scripts." };
        var command = new Command("list", "List every System V message queue on the host, like ipcs -q.") { json };
        command.SetAction(parseResult =>
        {
            var queues = MessageQueue.GetAll();
            if (parseResult.GetValue(json))
            {
                CliConsole.WriteJson(writer => MsgQueues.WriteJsonArray(writer, queues));
            }
            else
            {
                CliConsole.Out.Write(MsgQueues.CreateTable(queues));
            }

            return CliErrors.Success;
        });
        return command;
    }
}
