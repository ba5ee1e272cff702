using System.CommandLine;
using System.Globalization;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit create</c>: makes a segment, like <c>ipcmk -M</c>. With <c>--key</c> it opens the segment if it
/// exists (unless <c>--exclusive</c>); without a key it makes a private one. Prints the id and key.
/// </summary>
internal static class ShmCreateCommand
{
    internal static Command Create()
    {
        var size = CliParsing.ByteCountOption("--size", "Size in bytes; units K/KiB, M/MiB, G/GiB (powers of 1024), as in 64KiB or 1MiB.", minimum: 1);
        size.Required = true;
        var mode = CliParsing.ModeOption();
        var hugePages = new Option<bool>("--huge-pages") { Description = "Back the segment with huge pages (SHM_HUGETLB); needs reserved huge pages and a size that is a multiple of the huge page size." };
        var noReserve = new Option<bool>("--no-reserve") { Description = "Do not reserve swap space (SHM_NORESERVE)." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("create", "Create a shared memory segment (or open the one with --key), like ipcmk -M; prints its id and key.")
        {
            size, mode, hugePages, noReserve, json,
        };
        var keyOptions = CreateKeyOptions.Add(command, "segment");

        command.SetAction(parseResult =>
        {
            long bytes = parseResult.GetValue(size);
            var permissions = parseResult.GetValue(mode);
            var options = (parseResult.GetValue(hugePages) ? SharedMemoryCreateOptions.HugePages : SharedMemoryCreateOptions.None)
                | (parseResult.GetValue(noReserve) ? SharedMemoryCreateOptions.NoReserve : SharedMemoryCreateOptions.None);

            SharedMemorySegment segment;
            bool created;
            try
            {
                (segment, created) = keyOptions.CreateOrOpen(
                    parseResult,
                    () => SharedMemorySegment.CreatePrivate(bytes, permissions, options),
                    key => SharedMemorySegment.CreateNew(key, bytes, permissions, options),
                    // It exists, so open it (this also checks that it is large enough).
                    key => SharedMemorySegment.OpenOrCreate(key, bytes, permissions, options));
            }
            catch (IpcException e) when ((options & SharedMemoryCreateOptions.HugePages) != 0 && e is IpcLimitExceededException or IpcSizeException)
            {
                // The kernel says ENOMEM (no huge pages reserved) or EINVAL (size not a multiple of the huge page size).
                var (message, exitCode) = CliErrors.Describe(e);
                throw new CliException($"{message} With --huge-pages this usually means too few huge pages are reserved (vm.nr_hugepages = {ReadSysctl("/proc/sys/vm/nr_hugepages")}) or the size is not a multiple of the huge page size.", exitCode, e);
            }

            var actualMode = CreateKeyOptions.ActualMode(created, permissions, segment.Stat);
            if (parseResult.GetValue(json))
            {
                CliConsole.WriteJson(writer =>
                {
                    writer.WriteStartObject();
                    writer.WriteNumber("id", segment.Id);
                    writer.WriteString("key", segment.Key.ToString());
                    writer.WriteNumber("size", segment.Size);
                    writer.WriteBoolean("created", created);
                    CreateKeyOptions.WriteMode(writer, actualMode);
                    writer.WriteEndObject();
                });
            }
            else
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Shared memory id: {segment.Id} key: {segment.Key} size: {segment.Size} ({(created ? "created" : "opened existing")}{keyOptions.ModeNote(parseResult, mode, created, actualMode)})"));
            }

            return CliErrors.Success;
        });
        return command;
    }

    private static string ReadSysctl(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "unknown";
        }
    }
}
