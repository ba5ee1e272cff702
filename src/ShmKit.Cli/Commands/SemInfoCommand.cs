using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit sem info</c>: everything the kernel keeps about one semaphore set (IPC_STAT) and, per semaphore, its
/// value, last pid and waiters, like <c>ipcs -s -i</c>.
/// </summary>
internal static class SemInfoCommand
{
    internal static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON object (the fields of list --json plus a \"semaphores\" array)." };
        var command = new Command("info", "Show everything the kernel keeps about a semaphore set (semid_ds) and each semaphore's value, last pid and waiters, like ipcs -s -i.") { json };
        var target = CliParsing.AddKeyOrId(command, SemSets.ObjectName);
        command.SetAction(parseResult =>
        {
            var set = SemSets.Open(target.GetTarget(parseResult));
            var info = set.Stat();
            var semaphores = SemSets.ReadStates(set);
            if (parseResult.GetValue(json))
            {
                CliConsole.WriteJson(writer => SemSets.WriteJson(writer, info, semaphores));
                return CliErrors.Success;
            }

            var table = IpcObjectView.CreateFieldTable();
            IpcObjectView.AddFields(table, info);
            IpcObjectView.AddField(table, "semaphores (nsems)", info.Count.ToString(CultureInfo.InvariantCulture));
            IpcObjectView.AddField(table, "last semop", CliConsole.FormatTime(info.LastOperationTime));
            IpcObjectView.AddField(table, "last change", CliConsole.FormatTime(info.LastChangeTime));
            CliConsole.Out.Write(table);

            var values = new Table().Border(CliConsole.Border(TableBorder.Rounded));
            values.AddColumn(new TableColumn("semnum").RightAligned());
            values.AddColumn(new TableColumn("value").RightAligned());
            values.AddColumn(new TableColumn("last pid").RightAligned());
            values.AddColumn(new TableColumn("waiting for increase (ncount)").RightAligned());
            values.AddColumn(new TableColumn("waiting for zero (zcount)").RightAligned());
            foreach (var s in semaphores)
            {
                values.AddRow(
                    CliConsole.Cell(s.Index.ToString(CultureInfo.InvariantCulture)),
                    CliConsole.Cell(s.Value.ToString(CultureInfo.InvariantCulture)),
                    CliConsole.Cell(s.LastProcessId.ToString(CultureInfo.InvariantCulture)),
                    CliConsole.Cell(s.WaitingForIncrease.ToString(CultureInfo.InvariantCulture)),
                    CliConsole.Cell(s.WaitingForZero.ToString(CultureInfo.InvariantCulture)));
            }

            CliConsole.Out.Write(values);
            return CliErrors.Success;
        });
        return command;
    }
}
