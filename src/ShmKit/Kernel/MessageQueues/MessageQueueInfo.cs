namespace ShmKit;

/// <summary>
/// Everything the kernel keeps about a message queue (msgctl IPC_STAT, <c>struct msqid_ds</c>), as of the moment
/// it was read.
/// </summary>
public sealed record MessageQueueInfo : IpcObjectInfo
{
    /// <inheritdoc/>
    public override IpcObjectKind Kind => IpcObjectKind.MessageQueue;

    /// <summary>The last successful msgsnd (msg_stime), or null if nothing was ever sent.</summary>
    public DateTimeOffset? LastSendTime { get; init; }

    /// <summary>The last successful msgrcv (msg_rtime), or null if nothing was ever received.</summary>
    public DateTimeOffset? LastReceiveTime { get; init; }

    /// <summary>The payload bytes in the queue now (__msg_cbytes; the 8-byte types are not counted).</summary>
    public required long CurrentBytes { get; init; }

    /// <summary>The messages in the queue now (msg_qnum).</summary>
    public required long MessageCount { get; init; }

    /// <summary>
    /// The queue's capacity (msg_qbytes): a send blocks when the payload bytes would exceed it, or when the
    /// number of messages would (the kernel limits both by this one value). Starts at msgmnb.
    /// </summary>
    public required long MaxBytes { get; init; }

    /// <summary>The process of the last successful msgsnd (msg_lspid), 0 if none.</summary>
    public required int LastSendProcessId { get; init; }

    /// <summary>The process of the last successful msgrcv (msg_lrpid), 0 if none.</summary>
    public required int LastReceiveProcessId { get; init; }
}
