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
        var index = new Option<int>("--index") { Description = "The semaphore in the set, from 0 (default 0).", HelpName = "n" };
        var delta = new Option<short>("--delta")
        {
            Description = "What to do: a positive number adds it (release, never waits); a negative number subtracts it, waiting while the value is too small (acquire); 0 waits until the value is zero.",
            HelpName = "n",
            Required = true,
        };
        var timeout = CliParsing.DurationOption("--timeout", "Give up after this long (500ms, 5s, 2m; a bare number is seconds): exit 1 with a message. Default: wait until it can be done (Ctrl+C stops).");
        var noWait = new Option<bool>("--nowait") { Description = "Do not wait at all (IPC_NOWAIT): if the operation cannot be done right now, exit 1." };
        var undo = new Option<bool>("--undo")
        {
            Description = "Use SEM_UNDO. Off by default: the kernel reverses an undo operation when the process that made it exits, and shmkit exits right after the operation, so with --undo a '--delta -1' is given back at once. Use it only to see that behaviour.",
        };
        var noUndo = new Option<bool>("--no-undo") { Description = "Do not use SEM_UNDO (the default; the operation stays in effect after shmkit exits)." };
        var command = new Command("op", "Perform one operation (semop) on a semaphore: --delta 1 releases, --delta -1 acquires (waits), --delta 0 waits for zero. The change stays after shmkit exits (no SEM_UNDO unless --undo).")
        {
            index, delta, timeout, noWait, undo, noUndo,
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

        command.SetAction((parseResult, cancellationToken) =>
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
                    throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                        $"could not {what} semaphore {semaphore} of the {SemSets.ObjectName} with id {set.Id} without waiting (--nowait){DescribeValue(set, semaphore, ": its value is ")}. Leave out --nowait to wait, or give --timeout."));
                }
            }
            else
            {
                set.Apply([operation], parseResult.GetValue(timeout), cancellationToken);
            }

            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"done: {what} semaphore {semaphore} of {SemSets.ObjectName} id {set.Id}{DescribeValue(set, semaphore, "; its value is now ")}{(operation.Undo ? " (SEM_UNDO: reversed when shmkit exits)" : string.Empty)}"));
            return Task.FromResult(CliErrors.Success);
        });
        return command;
    }

    /// <summary>
    /// The semaphore's value for a message, or nothing when it cannot be read: a set may grant alter (write) but not
    /// read permission, and the operation itself succeeded or failed regardless.
    /// </summary>
    private static string DescribeValue(SemaphoreSet set, int index, string prefix)
    {
        try
        {
            return prefix + set.GetValue(index).ToString(CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IpcException or IpcAccessDeniedException)
        {
            return string.Empty;
        }
    }
}
