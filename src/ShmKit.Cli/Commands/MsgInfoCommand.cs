using System.CommandLine;
using System.Globalization;

namespace ShmKit.Cli.Commands;

/// <summary><c>shmkit msg info</c>: everything the kernel keeps about one message queue (IPC_STAT), like <c>ipcs -q -i</c>.</summary>
internal static class MsgInfoCommand
{
    internal static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON object (the same fields as msg list --json)." };
        var command = new Command("info", "Show everything the kernel keeps about a message queue (msqid_ds), like ipcs -q -i.") { json };
        var target = CliParsing.AddKeyOrId(command, MsgQueues.ObjectName);
        command.SetAction(parseResult =>
        {
            var info = MsgQueues.Open(target.GetTarget(parseResult)).Stat();
            if (parseResult.GetValue(json))
            {
                CliConsole.WriteJson(writer => MsgQueues.WriteJson(writer, info));
                return CliErrors.Success;
            }

            var table = IpcObjectView.CreateFieldTable();
            void Row(string field, string value) => IpcObjectView.AddField(table, field, value);
            IpcObjectView.AddFields(table, info);
            Row("messages (qnum)", info.MessageCount.ToString(CultureInfo.InvariantCulture));
            Row("used bytes (cbytes)", CliConsole.FormatBytes((ulong)info.CurrentBytes));
            Row("capacity (qbytes)", CliConsole.FormatBytes((ulong)info.MaxBytes));
            Row("last send pid (lspid)", info.LastSendProcessId.ToString(CultureInfo.InvariantCulture));
            Row("last receive pid (lrpid)", info.LastReceiveProcessId.ToString(CultureInfo.InvariantCulture));
            Row("last send", CliConsole.FormatTime(info.LastSendTime));
            Row("last receive", CliConsole.FormatTime(info.LastReceiveTime));
            Row("last change", CliConsole.FormatTime(info.LastChangeTime));
            CliConsole.Out.Write(table);
            return CliErrors.Success;
        });
        return command;
    }
}
