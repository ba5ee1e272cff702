using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace ShmKit.Cli.Commands;

/// <summary>What the semaphore commands have in common: finding the set named on the command line, its table and JSON.</summary>
internal static class SemSets
{
    /// <summary>What the commands call a set in messages and help texts.</summary>
    internal const string ObjectName = "semaphore set";

    /// <summary>
    /// Opens the set a key or <c>--id</c> names. Unlike <see cref="SemaphoreSet.Open"/> it does not wait for the set to
    /// be initialized: the CLI inspects and operates on sets made by any program, including <c>ipcmk -S</c> and C
    /// programs that never perform a semop (their sem_otime stays 0, and a library open would time out).
    /// </summary>
    /// <exception cref="IpcObjectNotFoundException">No such set.</exception>
    internal static SemaphoreSet Open(IpcTarget target) =>
        target.Open(SemaphoreSet.OpenById, OpenByKey, ObjectName);

    /// <summary>The sets as a table like <c>ipcs -s</c>: key, semid, owner, perms, nsems.</summary>
    internal static Table CreateTable(IEnumerable<SemaphoreSetInfo> sets)
    {
        var table = IpcObjectView.CreateListTable("semid");
        table.AddColumn(new TableColumn("nsems").RightAligned());
        foreach (var info in sets)
        {
            table.AddRow(IpcObjectView.ListCells(info, info.Count.ToString(CultureInfo.InvariantCulture)));
        }

        return table;
    }

    /// <summary>Writes the sets as a JSON array.</summary>
    internal static void WriteJsonArray(Utf8JsonWriter writer, IEnumerable<SemaphoreSetInfo> sets)
    {
        writer.WriteStartArray();
        foreach (var info in sets)
        {
            WriteJson(writer, info, semaphores: null);
        }

        writer.WriteEndArray();
    }

    /// <summary>
    /// One set as a JSON object, with a <c>semaphores</c> array when <paramref name="semaphores"/> is given. The field
    /// names are a stable interface for scripts: add fields, never rename or remove one.
    /// </summary>
    internal static void WriteJson(Utf8JsonWriter writer, SemaphoreSetInfo info, IReadOnlyList<SemaphoreState>? semaphores)
    {
        writer.WriteStartObject();
        IpcObjectView.WriteJsonProperties(writer, info);
        writer.WriteNumber("count", info.Count);
        CliConsole.WriteTime(writer, "lastOperationTime", info.LastOperationTime);
        CliConsole.WriteTime(writer, "lastChangeTime", info.LastChangeTime);
        if (semaphores is not null)
        {
            writer.WriteStartArray("semaphores");
            foreach (var semaphore in semaphores)
            {
                writer.WriteStartObject();
                writer.WriteNumber("index", semaphore.Index);
                writer.WriteNumber("value", semaphore.Value);
                writer.WriteNumber("lastPid", semaphore.LastProcessId);
                writer.WriteNumber("waitingForIncrease", semaphore.WaitingForIncrease);
                writer.WriteNumber("waitingForZero", semaphore.WaitingForZero);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// Every semaphore's value, last pid (GETPID), and waiters (GETNCNT, GETZCNT). The values are read together
    /// (GETALL, atomic); the other numbers one call each, so they may come from slightly different moments.
    /// </summary>
    internal static IReadOnlyList<SemaphoreState> ReadStates(SemaphoreSet set)
    {
        int[] values = set.GetValues();
        var states = new SemaphoreState[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            states[i] = new SemaphoreState(i, values[i], set.GetLastProcessId(i), set.GetWaitingForIncreaseCount(i), set.GetWaitingForZeroCount(i));
        }

        return states;
    }

    private static SemaphoreSet OpenByKey(IpcKey key)
    {
        try
        {
            return SemaphoreSet.Open(key, initializationTimeout: TimeSpan.Zero);
        }
        catch (SemaphoreSetNotInitializedException e) when (e.Id is int id)
        {
            // Never initialized by a semop (ipcmk -S, many C programs): usable all the same.
            return SemaphoreSet.OpenById(id);
        }
    }
}
