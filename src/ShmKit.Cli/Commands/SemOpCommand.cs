using System.CommandLine;
using System.Globalization;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit sem op</c>: one semop on one semaphore: add (release), subtract (wait, blocking while the value is too
/// small) or wait for zero. Without SEM_UNDO by default, because the kernel undoes a SEM_UNDO operation when the
/// process exits, and this process exits as soon as the operation is done.
/// </summary>
internal static class SemOpCommand
{
    internal static Command Create()
    {
        var index = CliParsing.IntegerOption("--index", "The semaphore in the set, from 0 (default 0).", 0, int.MaxValue);
        var delta = CliParsing.IntegerOption("--delta",
            "What to do: a positive number adds it (release, never waits); a negative number subtracts it, waiting while the value is too small (acquire); 0 waits until the value is zero. From -32767 to 32767 (a semaphore holds 0..32767).",
            (short)-32767, short.MaxValue);
        delta.Required = true;
        var timeout = CliParsing.DurationOption("--timeout", "Give up after this long (500ms, 5s, 2m; a bare number is seconds): exit 6 with a message. Default: wait until it can be done (Ctrl+C stops). Waiting costs no CPU.");
        var noWait = new Option<bool>("--nowait") { Description = "Do not wait at all (IPC_NOWAIT): if the operation cannot be done right now, exit 6." };
        var undo = new Option<bool>("--undo")
        {
            Description = "Use SEM_UNDO. Off by default: the kernel reverses an undo operation when the process that made it exits, and shmkit exits right after the operation, so with --undo a '--delta -1' is given back at once. Use it only to see that behaviour.",
        };
        var noUndo = new Option<bool>("--no-undo") { Description = "Do not use SEM_UNDO (the default; the operation stays in effect after shmkit exits)." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON: id, key, index, delta, undo, and the value after (null when this user may alter but not read the set)." };
        var command = new Command("op", "Perform one operation (semop) on a semaphore: --delta 1 releases, --delta -1 acquires (waits), --delta 0 waits for zero. The change stays after shmkit exits (no SEM_UNDO unless --undo).")
        {
            index, delta, timeout, noWait, undo, noUndo, json,
        };
        var target = CliParsing.AddKeyOrId(command, SemSets.ObjectName);
        command.Validators.Add(result =>
        {
            if (result.GetValue(undo) && result.GetValue(noUndo))
            {
                result.AddError("--undo and --no-undo contradict each other");
            }

            if (result.GetValue(noWait) && result.GetResult(timeout) is not null)
            {
                result.AddError("give --nowait or --timeout, not both (--nowait never waits)");
            }
        });

        command.SetAction(parseResult =>
        {
            var set = SemSets.Open(target.GetTarget(parseResult));
            int semaphore = parseResult.GetValue(index);
            short change = parseResult.GetValue(delta);
            string what = change switch
            {
                > 0 => string.Create(CultureInfo.InvariantCulture, $"add {change} to"),
                < 0 => string.Create(CultureInfo.InvariantCulture, $"subtract {-change} from"),
                _ => "wait for zero on",
            };
            var operation = new SemaphoreOperation(semaphore, change, Undo: parseResult.GetValue(undo), NoWait: parseResult.GetValue(noWait));
            if (operation.NoWait)
            {
                if (!set.TryApply([operation]))
                {
                    throw new CliException(string.Create(CultureInfo.InvariantCulture,
                        $"could not {what} semaphore {semaphore} of the {SemSets.ObjectName} with id {set.Id} without waiting (--nowait){DescribeValue(set, semaphore, ": its value is ")}. Leave out --nowait to wait, or give --timeout."), CliErrors.Timeout);
                }
            }
            else
            {
                // semtimedop has a real timeout: the library blocks in one call (no token, so no slices).
                CliWait.Run(
                    () =>
                    {
                        set.Apply([operation], parseResult.GetValue(timeout));
                        return true;
                    },
                    timeout: null,
                    describeTimeout: () => string.Empty,
                    nothingDone: "nothing was changed");
            }

            int? value = ReadValue(set, semaphore);
            if (parseResult.GetValue(json))
            {
                CliConsole.WriteJson(writer =>
                {
                    writer.WriteStartObject();
                    writer.WriteNumber("id", set.Id);
                    writer.WriteString("key", set.Key.ToString());
                    writer.WriteNumber("index", semaphore);
                    writer.WriteNumber("delta", change);
                    writer.WriteBoolean("undo", operation.Undo);
                    if (value is int v)
                    {
                        writer.WriteNumber("value", v);
                    }
                    else
                    {
                        writer.WriteNull("value");
                    }

                    writer.WriteEndObject();
                });
                return CliErrors.Success;
            }

            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"done: {what} semaphore {semaphore} of {SemSets.ObjectName} id {set.Id}{(value is int now ? "; its value is now " + now.ToString(CultureInfo.InvariantCulture) : string.Empty)}{(operation.Undo ? " (SEM_UNDO: reversed when shmkit exits)" : string.Empty)}"));
            return CliErrors.Success;
        });
        return command;
    }

    /// <summary>
    /// The semaphore's value, or null when it cannot be read: a set may grant alter (write) but not read permission,
    /// and the operation itself succeeded or failed regardless.
    /// </summary>
    private static int? ReadValue(SemaphoreSet set, int index)
    {
        try
        {
            return set.GetValue(index);
        }
        catch (Exception e) when (e is IpcException or IpcAccessDeniedException)
        {
            return null;
        }
    }

    /// <summary>The semaphore's value after <paramref name="prefix"/>, or nothing when it cannot be read (see <see cref="ReadValue"/>).</summary>
    private static string DescribeValue(SemaphoreSet set, int index, string prefix) =>
        ReadValue(set, index) is int value ? prefix + value.ToString(CultureInfo.InvariantCulture) : string.Empty;
}
