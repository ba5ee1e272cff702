using System.CommandLine;
using System.Globalization;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit msg create</c>: makes a message queue, like <c>ipcmk -Q</c>. With <c>--key</c> it opens the queue if it
/// exists (unless <c>--exclusive</c>); without a key it makes a private one. Prints the id and key.
/// </summary>
internal static class MsgCreateCommand
{
    internal static Command Create()
    {
        var mode = CliParsing.ModeOption();
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("create", "Create a message queue (or open the one with --key), like ipcmk -Q; prints its id and key.") { mode, json };
        var keyOptions = CreateKeyOptions.Add(command, MsgQueues.ObjectName);
        command.SetAction(parseResult =>
        {
            var permissions = parseResult.GetValue(mode);
            var (queue, created) = keyOptions.CreateOrOpen(
                parseResult,
                () => MessageQueue.CreatePrivate(permissions),
                key => MessageQueue.CreateNew(key, permissions),
                MessageQueue.Open);

            var actualMode = CreateKeyOptions.ActualMode(created, permissions, queue.Stat);
            if (parseResult.GetValue(json))
            {
                CliConsole.WriteJson(writer =>
                {
                    writer.WriteStartObject();
                    writer.WriteNumber("id", queue.Id);
                    writer.WriteString("key", queue.Key.ToString());
                    writer.WriteBoolean("created", created);
                    CreateKeyOptions.WriteMode(writer, actualMode);
                    writer.WriteEndObject();
                });
            }
            else
            {
                // "Message queue id: N" as ipcmk -Q prints it.
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Message queue id: {queue.Id} key: {queue.Key} ({(created ? "created" : "opened existing")}{keyOptions.ModeNote(parseResult, mode, created, actualMode)})"));
            }

            return CliErrors.Success;
        });
        return command;
    }
}
