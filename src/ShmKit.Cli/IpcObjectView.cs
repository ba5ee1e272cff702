using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ShmKit.Cli;

/// <summary>
/// How every <c>list</c> and <c>info</c> command, and their JSON, shows what segments, semaphore sets and queues have
/// in common (<see cref="IpcObjectInfo"/>: key, id, mode, owner and creator).
/// </summary>
internal static class IpcObjectView
{
    /// <summary>
    /// A borderless table with the columns every list starts with, as ipcs has them: key, the id (named
    /// <paramref name="idColumn"/>: shmid, semid, msqid), owner, perms. The caller adds its own columns.
    /// </summary>
    internal static Table CreateListTable(string idColumn)
    {
        var table = new Table().Border(TableBorder.None).HideRowSeparators();
        table.AddColumn(new TableColumn("key"));
        table.AddColumn(new TableColumn(idColumn).RightAligned());
        table.AddColumn(new TableColumn("owner"));
        table.AddColumn(new TableColumn("perms"));
        return table;
    }

    /// <summary>A two-column table without headers for an <c>info</c> command (see <see cref="AddField"/>).</summary>
    internal static Table CreateFieldTable()
    {
        var table = new Table().Border(CliConsole.Border(TableBorder.Rounded)).HideHeaders();
        table.AddColumn("field");
        table.AddColumn("value");
        return table;
    }

    /// <summary>Adds a row to a table made by <see cref="CreateFieldTable"/>.</summary>
    internal static void AddField(Table table, string field, string value) =>
        table.AddRow(CliConsole.Cell(field), CliConsole.Cell(value));

    /// <summary>The cells for the columns of <see cref="CreateListTable"/>, followed by <paramref name="more"/> cells.</summary>
    internal static IRenderable[] ListCells(IpcObjectInfo info, params string[] more) =>
    [
        CliConsole.Cell(info.Key.ToString()),
        CliConsole.Cell(info.Id.ToString(CultureInfo.InvariantCulture)),
        CliConsole.Cell(CliNames.User(info.OwnerUserId)),
        CliConsole.Cell(CliParsing.FormatMode(info.Mode)),
        .. more.Select(CliConsole.Cell),
    ];

    /// <summary>Adds the key, id, mode, owner, group, creator and creator group rows to an info table.</summary>
    internal static void AddFields(Table table, IpcObjectInfo info)
    {
        static string Named(uint id, string name) => name == id.ToString(CultureInfo.InvariantCulture) ? name : string.Create(CultureInfo.InvariantCulture, $"{name} ({id})");

        AddField(table, "key", info.Key.IsPrivate ? info.Key + " (private)" : info.Key.ToString());
        AddField(table, "id", info.Id.ToString(CultureInfo.InvariantCulture));
        AddField(table, "mode", CliParsing.FormatMode(info.Mode));
        AddField(table, "owner", Named(info.OwnerUserId, CliNames.User(info.OwnerUserId)));
        AddField(table, "group", Named(info.OwnerGroupId, CliNames.Group(info.OwnerGroupId)));
        AddField(table, "creator", Named(info.CreatorUserId, CliNames.User(info.CreatorUserId)));
        AddField(table, "creator group", Named(info.CreatorGroupId, CliNames.Group(info.CreatorGroupId)));
    }

    /// <summary>
    /// Writes the shared properties (key, id, owner, ownerUid, ownerGid, creatorUid, creatorGid, mode) into the JSON
    /// object being written. The names are a stable interface for scripts: add fields, never rename or remove one.
    /// </summary>
    internal static void WriteJsonProperties(Utf8JsonWriter writer, IpcObjectInfo info)
    {
        writer.WriteString("key", info.Key.ToString());
        writer.WriteNumber("id", info.Id);
        writer.WriteString("owner", CliNames.User(info.OwnerUserId));
        writer.WriteNumber("ownerUid", info.OwnerUserId);
        writer.WriteNumber("ownerGid", info.OwnerGroupId);
        writer.WriteNumber("creatorUid", info.CreatorUserId);
        writer.WriteNumber("creatorGid", info.CreatorGroupId);
        writer.WriteString("mode", CliParsing.FormatMode(info.Mode));
    }
}
