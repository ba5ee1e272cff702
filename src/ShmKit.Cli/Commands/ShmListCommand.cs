using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace ShmKit.Cli.Commands;

/// <summary><c>shmkit list</c>: every shared memory segment on the host, like <c>ipcs -m</c>.</summary>
internal static class ShmListCommand
{
    internal static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON array (stable camelCase field names) for scripts." };
        var command = new Command("list", "List every System V shared memory segment on the host, like ipcs -m.") { json };
        command.SetAction(parseResult =>
        {
            var segments = SharedMemorySegment.GetAll();
            if (parseResult.GetValue(json))
            {
                CliConsole.WriteJson(writer =>
                {
                    writer.WriteStartArray();
                    foreach (var info in segments)
                    {
                        ShmSegments.WriteJson(writer, info);
                    }

                    writer.WriteEndArray();
                });
                return CliErrors.Success;
            }

            var table = new Table().Border(TableBorder.None).HideRowSeparators();
            table.AddColumn(new TableColumn("key"));
            table.AddColumn(new TableColumn("shmid").RightAligned());
            table.AddColumn(new TableColumn("owner"));
            table.AddColumn(new TableColumn("perms"));
            table.AddColumn(new TableColumn("bytes").RightAligned());
            table.AddColumn(new TableColumn("nattch").RightAligned());
            table.AddColumn(new TableColumn("status"));
            foreach (var info in segments)
            {
                table.AddRow(
                    CliConsole.Cell(info.Key.ToString()),
                    CliConsole.Cell(info.Id.ToString(CultureInfo.InvariantCulture)),
                    CliConsole.Cell(CliNames.User(info.OwnerUserId)),
                    CliConsole.Cell(CliParsing.FormatMode(info.Mode)),
                    CliConsole.Cell(info.Size.ToString(CultureInfo.InvariantCulture)),
                    CliConsole.Cell(info.AttachCount.ToString(CultureInfo.InvariantCulture)),
                    CliConsole.Cell(ShmSegments.Status(info)));
            }

            CliConsole.Out.Write(table);
            return CliErrors.Success;
        });
        return command;
    }
}
