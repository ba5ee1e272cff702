namespace ShmKit;

/// <summary>
/// The host's message queue limits (msgctl IPC_INFO; the sysctls kernel.msgmax, kernel.msgmnb, kernel.msgmni) and
/// current usage (msgctl MSG_INFO).
/// </summary>
public sealed record MessageQueueLimits
{
    /// <summary>msgmax: the largest message payload, in bytes. A receive buffer this large always fits.</summary>
    public required int MaxMessageSize { get; init; }

    /// <summary>msgmnb: the capacity (<see cref="MessageQueueInfo.MaxBytes"/>) a new queue starts with, and the most an unprivileged owner may set.</summary>
    public required int MaxQueueBytes { get; init; }

    /// <summary>msgmni: the most queues the system may have.</summary>
    public required int MaxQueues { get; init; }

    /// <summary>Queues that exist now (MSG_INFO msgpool).</summary>
    public required int QueuesInUse { get; init; }

    /// <summary>Messages in all queues now (MSG_INFO msgmap).</summary>
    public required int MessagesInUse { get; init; }

    /// <summary>Payload bytes in all queues now (MSG_INFO msgtql).</summary>
    public required int BytesInUse { get; init; }
}
