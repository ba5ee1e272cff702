using System.CommandLine;
using System.Globalization;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit sem set</c>: sets one semaphore (SETVAL) or all of them at once (SETALL). Either wakes the waiters that
/// can now go on, and clears every process's undo adjustments for the semaphores set.
/// </summary>
internal static class SemSetCommand
{
    internal static Command Create()
    {
        var index = CliParsing.IntegerOption("--index", "The semaphore to set with --value, from 0 (default 0).", 0, int.MaxValue);
        var value = CliParsing.OptionalIntegerOption("--value", "The value for the semaphore --index, 0..32767 (SETVAL).", 0, 32767);
        var values = CliParsing.SemaphoreValuesOption("Every value at once, one per semaphore, 0..32767, set atomically (SETALL).");
        var command = new Command("set", "Set a semaphore's value (--index N --value V) or all values at once (--values 1,0,0), like semctl SETVAL/SETALL. Waiters that can go on wake up.")
        {
            index, value, values,
        };
        var target = CliParsing.AddKeyOrId(command, SemSets.ObjectName);
        command.Validators.Add(result =>
        {
            bool one = result.GetResult(value) is not null;
            bool all = result.GetResult(values) is not null;
            if (one == all)
            {
                result.AddError("give either --value V (with --index N) or --values v1,v2,... (one per semaphore)");
            }
            else if (all && result.GetResult(index) is not null)
            {
                result.AddError("--index goes with --value; --values sets every semaphore");
            }
        });

        command.SetAction(parseResult =>
        {
            var set = SemSets.Open(target.GetTarget(parseResult));
            if (parseResult.GetValue(value) is int v)
            {
                int semaphore = parseResult.GetValue(index);
                set.SetValue(semaphore, v);
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"set semaphore {semaphore} of {SemSets.ObjectName} id {set.Id} to {v}"));
            }
            else
            {
                short[] all = parseResult.GetValue(values)!;
                set.SetValues(all);
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"set the {all.Length} values of {SemSets.ObjectName} id {set.Id} to {string.Join(',', all)}"));
            }

            return CliErrors.Success;
        });
        return command;
    }
}
