using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace ShmKit.Cli.Commands;

/// <summary>What the message queue commands have in common: finding the queue named on the command line, its table and JSON.</summary>
internal static class MsgQueues
{
    /// <summary>What the commands call a queue in messages and help texts.</summary>
    internal const string ObjectName = "message queue";

    /// <summary>Opens the queue a key or <c>--id</c> names.</summary>
    /// <exception cref="IpcObjectNotFoundException">No such queue.</exception>
    internal static MessageQueue Open(IpcTarget target) =>
        target.Open(MessageQueue.OpenById, MessageQueue.Open, ObjectName);

    /// <summary>The queues as a table like <c>ipcs -q</c>: key, msqid, owner, perms, used-bytes, messages.</summary>
    internal static Table CreateTable(IEnumerable<MessageQueueInfo> queues)
    {
        var table = IpcObjectView.CreateListTable("msqid");
        table.AddColumn(new TableColumn("used-bytes").RightAligned());
        table.AddColumn(new TableColumn("messages").RightAligned());
        foreach (var info in queues)
        {
            table.AddRow(IpcObjectView.ListCells(
                info,
                info.CurrentBytes.ToString(CultureInfo.InvariantCulture),
                info.MessageCount.ToString(CultureInfo.InvariantCulture)));
        }

        return table;
    }

    /// <summary>Writes the queues as a JSON array.</summary>
    internal static void WriteJsonArray(Utf8JsonWriter writer, IEnumerable<MessageQueueInfo> queues)
    {
        writer.WriteStartArray();
        foreach (var info in queues)
        {
            WriteJson(writer, info);
        }

        writer.WriteEndArray();
    }

    /// <summary>
    /// One queue as a JSON object. The field names are a stable interface for scripts: add fields, never rename or
    /// remove one.
    /// </summary>
    internal static void WriteJson(Utf8JsonWriter writer, MessageQueueInfo info)
    {
        writer.WriteStartObject();
        IpcObjectView.WriteJsonProperties(writer, info);
        writer.WriteNumber("usedBytes", info.CurrentBytes);
        writer.WriteNumber("messages", info.MessageCount);
        writer.WriteNumber("maxBytes", info.MaxBytes);
        writer.WriteNumber("lastSendPid", info.LastSendProcessId);
        writer.WriteNumber("lastReceivePid", info.LastReceiveProcessId);
        CliConsole.WriteTime(writer, "lastSendTime", info.LastSendTime);
        CliConsole.WriteTime(writer, "lastReceiveTime", info.LastReceiveTime);
        CliConsole.WriteTime(writer, "lastChangeTime", info.LastChangeTime);
        writer.WriteEndObject();
    }
}
