using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace ShmKit.Cli.Commands;

/// <summary><c>shmkit limits</c>: the host's shared memory limits and usage, like <c>ipcs -l -m</c> and <c>ipcs -u -m</c>.</summary>
internal static class ShmLimitsCommand
{
    internal static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print a JSON object for scripts." };
        var command = new Command("limits", "Show the shared memory limits (kernel.shmmax, shmmin, shmmni, shmseg, shmall) and current usage.") { json };
        command.SetAction(parseResult =>
        {
            var limits = SharedMemorySegment.GetLimits();
            ulong pageSize = (ulong)limits.PageSize;
            if (parseResult.GetValue(json))
            {
                CliConsole.WriteJson(writer =>
                {
                    writer.WriteStartObject();
                    writer.WriteNumber("shmmax", limits.MaxSegmentSize);
                    writer.WriteNumber("shmmin", limits.MinSegmentSize);
                    writer.WriteNumber("shmmni", limits.MaxSegments);
                    writer.WriteNumber("shmseg", limits.MaxSegmentsPerProcess);
                    writer.WriteNumber("shmall", limits.MaxTotalPages);
                    writer.WriteNumber("pageSize", limits.PageSize);
                    writer.WriteNumber("segmentsInUse", limits.SegmentsInUse);
                    writer.WriteNumber("pagesInUse", limits.PagesInUse);
                    writer.WriteNumber("pagesResident", limits.PagesResident);
                    writer.WriteNumber("pagesSwapped", limits.PagesSwapped);
                    writer.WriteEndObject();
                });
                return CliErrors.Success;
            }

            var table = new Table().Border(CliConsole.Border(TableBorder.Rounded));
            table.AddColumn("limit");
            table.AddColumn("value");
            table.AddColumn("meaning");
            void Row(string name, string value, string meaning) =>
                table.AddRow(CliConsole.Cell(name), CliConsole.Cell(value), CliConsole.Cell(meaning));
            static string Number(ulong n) => n.ToString(CultureInfo.InvariantCulture);
            static string Pages(ulong pages, ulong pageSize) =>
                pages > ulong.MaxValue / pageSize ? Number(pages) + " pages" : Number(pages) + " pages = " + CliConsole.FormatBytes(pages * pageSize) + " bytes";

            Row("shmmax", CliConsole.FormatBytes(limits.MaxSegmentSize), "largest segment, bytes");
            Row("shmmin", Number(limits.MinSegmentSize), "smallest segment, bytes");
            Row("shmmni", Number(limits.MaxSegments), "most segments on the host");
            Row("shmseg", Number(limits.MaxSegmentsPerProcess), "most segments one process attaches (not enforced by Linux)");
            Row("shmall", Pages(limits.MaxTotalPages, pageSize), "most memory all segments together use");
            Row("page size", Number(pageSize), "bytes");
            Row("segments in use", limits.SegmentsInUse.ToString(CultureInfo.InvariantCulture), "segments that exist now");
            Row("pages in use", Pages(limits.PagesInUse, pageSize), "allocated to segments now");
            Row("pages resident", Pages(limits.PagesResident, pageSize), "in memory now");
            Row("pages swapped", Pages(limits.PagesSwapped, pageSize), "swapped out now");
            CliConsole.Out.Write(table);
            return CliErrors.Success;
        });
        return command;
    }
}
