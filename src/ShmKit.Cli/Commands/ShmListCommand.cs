using System.CommandLine;
using Spectre.Console;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit list</c>: every shared memory segment on the host, like <c>ipcs -m</c>; with <c>--all</c> also every
/// semaphore set and message queue, like <c>ipcs -a</c>.
/// </summary>
internal static class ShmListCommand
{
    internal static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON (stable camelCase field names) for scripts: an array of segments; with --all an object with \"sharedMemory\", \"semaphoreSets\" and \"messageQueues\" arrays." };
        var all = new Option<bool>("--all", "-a") { Description = "Also list semaphore sets and message queues, like ipcs -a (three tables)." };
        var command = new Command("list", "List every System V shared memory segment on the host, like ipcs -m; with --all also semaphore sets and message queues, like ipcs -a.") { json, all };
        command.SetAction(parseResult =>
        {
            var segments = SharedMemorySegment.GetAll();
            if (!parseResult.GetValue(all))
            {
                if (parseResult.GetValue(json))
                {
                    CliConsole.WriteJson(writer => ShmSegments.WriteJsonArray(writer, segments));
                }
                else
                {
                    CliConsole.Out.Write(ShmSegments.CreateTable(segments));
                }

                return CliErrors.Success;
            }

            var sets = SemaphoreSet.GetAll();
            var queues = MessageQueue.GetAll();
            if (parseResult.GetValue(json))
            {
                CliConsole.WriteJson(writer =>
                {
                    writer.WriteStartObject();
                    writer.WritePropertyName("sharedMemory");
                    ShmSegments.WriteJsonArray(writer, segments);
                    writer.WritePropertyName("semaphoreSets");
                    SemSets.WriteJsonArray(writer, sets);
                    writer.WritePropertyName("messageQueues");
                    MsgQueues.WriteJsonArray(writer, queues);
                    writer.WriteEndObject();
                });
                return CliErrors.Success;
            }

            // The section headings ipcs -a prints, so the output reads (and greps) the same.
            CliConsole.Out.WriteLine("------ Shared Memory Segments --------");
            CliConsole.Out.Write(ShmSegments.CreateTable(segments));
            CliConsole.Out.WriteLine();
            CliConsole.Out.WriteLine("------ Semaphore Arrays --------");
            CliConsole.Out.Write(SemSets.CreateTable(sets));
            CliConsole.Out.WriteLine();
            CliConsole.Out.WriteLine("------ Message Queues --------");
            CliConsole.Out.Write(MsgQueues.CreateTable(queues));
            return CliErrors.Success;
        });
        return command;
    }
}
