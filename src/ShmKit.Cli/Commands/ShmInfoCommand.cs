using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace ShmKit.Cli.Commands;

/// <summary><c>shmkit info</c>: everything the kernel keeps about one segment (IPC_STAT), like <c>ipcs -m -i</c>.</summary>
internal static class ShmInfoCommand
{
    internal static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON object (the same fields as list --json)." };
        var command = new Command("info", "Show everything the kernel keeps about a segment (shmid_ds), like ipcs -m -i.") { json };
        var target = CliParsing.AddKeyOrId(command, "segment");
        command.SetAction(parseResult =>
        {
            var info = ShmSegments.Open(target.GetTarget(parseResult)).Stat();
            if (parseResult.GetValue(json))
            {
                CliConsole.WriteJson(writer => ShmSegments.WriteJson(writer, info));
                return CliErrors.Success;
            }

            var table = IpcObjectView.CreateFieldTable();
            void Row(string field, string value) => IpcObjectView.AddField(table, field, value);
            IpcObjectView.AddFields(table, info);
            Row("size", CliConsole.FormatBytes((ulong)info.Size));
            Row("creator pid", info.CreatorProcessId.ToString(CultureInfo.InvariantCulture));
            Row("last attach/detach pid", info.LastOperationProcessId.ToString(CultureInfo.InvariantCulture));
            Row("attached (nattch)", info.AttachCount.ToString(CultureInfo.InvariantCulture));
            Row("last attach", CliConsole.FormatTime(info.LastAttachTime));
            Row("last detach", CliConsole.FormatTime(info.LastDetachTime));
            Row("last change", CliConsole.FormatTime(info.LastChangeTime));
            Row("marked for removal (dest)", info.IsMarkedForRemoval ? "yes" : "no");
            Row("locked in memory", info.IsLocked ? "yes" : "no");
            CliConsole.Out.Write(table);
            return CliErrors.Success;
        });
        return command;
    }
}
