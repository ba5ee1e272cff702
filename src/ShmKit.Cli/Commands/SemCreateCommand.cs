using System.CommandLine;
using System.Globalization;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit sem create</c>: makes a semaphore set, like <c>ipcmk -S</c>, and sets its values. With <c>--key</c> it
/// opens the set if it exists (unless <c>--exclusive</c>); without a key it makes a private one. Prints the id and key.
/// </summary>
internal static class SemCreateCommand
{
    internal static Command Create()
    {
        var count = CliParsing.OptionalIntegerOption("--count", "How many semaphores the set has (1..semmsl). May be left out when --values is given.", int.MinValue, int.MaxValue);
        var values = CliParsing.SemaphoreValuesOption("The initial values, one per semaphore, 0..32767 (default: all 0).");
        var mode = CliParsing.ModeOption();
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("create", "Create a semaphore set (or open the one with --key), like ipcmk -S, with its initial values; prints its id and key.")
        {
            count, values, mode, json,
        };
        var keyOptions = CreateKeyOptions.Add(command, SemSets.ObjectName);
        command.Validators.Add(result =>
        {
            if (!CliParsing.TryGetValue(result, count, out int? n) || !CliParsing.TryGetValue(result, values, out short[]? initial))
            {
                return;
            }

            if (n is null && result.GetResult(values) is null)
            {
                result.AddError("say how many semaphores: --count N, or --values v1,v2,... (one value per semaphore)");
            }
            else if (n is < 1)
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"--count: a set has at least 1 semaphore, not {n}"));
            }
            else if (n is int expected && initial is { Length: > 0 } && initial.Length != expected)
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"--values has {initial.Length} values but --count is {expected}: give one value per semaphore"));
            }
        });

        command.SetAction(parseResult =>
        {
            short[] initial = parseResult.GetValue(values) is { Length: > 0 } v ? v : Zeros(parseResult.GetValue(count)!.Value);
            var permissions = parseResult.GetValue(mode);
            var (set, created) = keyOptions.CreateOrOpen(
                parseResult,
                () => SemaphoreSet.CreatePrivate(initial, permissions),
                key => SemaphoreSet.CreateNew(key, initial, permissions),
                key => OpenExisting(key, initial, permissions));

            var actualMode = CreateKeyOptions.ActualMode(created, permissions, set.Stat);
            if (parseResult.GetValue(json))
            {
                CliConsole.WriteJson(writer =>
                {
                    writer.WriteStartObject();
                    writer.WriteNumber("id", set.Id);
                    writer.WriteString("key", set.Key.ToString());
                    writer.WriteNumber("count", set.Count);
                    writer.WriteBoolean("created", created);
                    CreateKeyOptions.WriteMode(writer, actualMode);
                    writer.WriteEndObject();
                });
            }
            else
            {
                // "Semaphore id: N" as ipcmk -S prints it.
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Semaphore id: {set.Id} key: {set.Key} nsems: {set.Count} ({(created ? "created" : "opened existing; values left as they are")}{keyOptions.ModeNote(parseResult, mode, created, actualMode)})"));
            }

            return CliErrors.Success;
        });
        return command;
    }

    /// <summary>
    /// <paramref name="count"/> zeros; a count above semmsl is refused here, before allocating for it (the kernel
    /// would refuse it anyway).
    /// </summary>
    private static short[] Zeros(int count)
    {
        int semmsl = SemaphoreSet.GetLimits().MaxSemaphoresPerSet;
        if (count > semmsl)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"--count {count} is more than one semaphore set may hold (semmsl={semmsl}). Ask for fewer, or raise kernel.sem."));
        }

        return new short[count];
    }

    /// <summary>
    /// Opens the existing set with the key, checking it has at least as many semaphores as asked (the library's
    /// message says so otherwise), without waiting for a set that was never initialized (made by ipcmk -S, say).
    /// </summary>
    private static SemaphoreSet OpenExisting(IpcKey key, short[] initial, UnixFileMode mode)
    {
        try
        {
            return SemaphoreSet.OpenOrCreate(key, initial, mode, initializationTimeout: TimeSpan.Zero);
        }
        catch (SemaphoreSetNotInitializedException e) when (e.Id is int id)
        {
            return SemaphoreSet.OpenById(id);
        }
    }
}
