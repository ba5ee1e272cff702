using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ShmKit.Cli;

/// <summary>
/// What segments, semaphore sets and queues have in common (their <c>ipc_perm</c>: key, id, mode, owner and
/// creator), shown the same way by every <c>list</c> and <c>info</c> command and in their JSON.
/// </summary>
internal sealed record IpcObjectIdentity(IpcKey Key, int Id, UnixFileMode Mode, uint OwnerUserId, uint OwnerGroupId, uint CreatorUserId, uint CreatorGroupId)
{
    internal static IpcObjectIdentity Of(SharedMemorySegmentInfo info) =>
        new(info.Key, info.Id, info.Mode, info.OwnerUserId, info.OwnerGroupId, info.CreatorUserId, info.CreatorGroupId);

    internal static IpcObjectIdentity Of(SemaphoreSetInfo info) =>
        new(info.Key, info.Id, info.Mode, info.OwnerUserId, info.OwnerGroupId, info.CreatorUserId, info.CreatorGroupId);

    internal static IpcObjectIdentity Of(MessageQueueInfo info) =>
        new(info.Key, info.Id, info.Mode, info.OwnerUserId, info.OwnerGroupId, info.CreatorUserId, info.CreatorGroupId);

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
    internal IRenderable[] ListCells(params string[] more) =>
    [
        CliConsole.Cell(Key.ToString()),
        CliConsole.Cell(Id.ToString(CultureInfo.InvariantCulture)),
        CliConsole.Cell(CliNames.User(OwnerUserId)),
        CliConsole.Cell(CliParsing.FormatMode(Mode)),
        .. more.Select(CliConsole.Cell),
    ];

    /// <summary>Adds the key, id, mode, owner, group, creator and creator group rows to an info table.</summary>
    internal void AddFields(Table table)
    {
        static string Named(uint id, string name) => name == id.ToString(CultureInfo.InvariantCulture) ? name : string.Create(CultureInfo.InvariantCulture, $"{name} ({id})");

        AddField(table, "key", Key.IsPrivate ? Key + " (private)" : Key.ToString());
        AddField(table, "id", Id.ToString(CultureInfo.InvariantCulture));
        AddField(table, "mode", CliParsing.FormatMode(Mode));
        AddField(table, "owner", Named(OwnerUserId, CliNames.User(OwnerUserId)));
        AddField(table, "group", Named(OwnerGroupId, CliNames.Group(OwnerGroupId)));
        AddField(table, "creator", Named(CreatorUserId, CliNames.User(CreatorUserId)));
        AddField(table, "creator group", Named(CreatorGroupId, CliNames.Group(CreatorGroupId)));
    }

    /// <summary>
    /// Writes the shared properties (key, id, owner, ownerUid, ownerGid, creatorUid, creatorGid, mode) into the JSON
    /// object being written. The names are a stable interface for scripts: add fields, never rename or remove one.
    /// </summary>
    internal void WriteJsonProperties(Utf8JsonWriter writer)
    {
        writer.WriteString("key", Key.ToString());
        writer.WriteNumber("id", Id);
        writer.WriteString("owner", CliNames.User(OwnerUserId));
        writer.WriteNumber("ownerUid", OwnerUserId);
        writer.WriteNumber("ownerGid", OwnerGroupId);
        writer.WriteNumber("creatorUid", CreatorUserId);
        writer.WriteNumber("creatorGid", CreatorGroupId);
        writer.WriteString("mode", CliParsing.FormatMode(Mode));
    }
}
