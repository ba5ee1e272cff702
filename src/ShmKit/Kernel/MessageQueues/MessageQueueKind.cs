using ShmKit.Interop;

namespace ShmKit;

/// <summary>Message queues for <see cref="IpcControl{TKind, TStatus}"/>: msgget and msgctl with <c>struct msqid_ds</c>.</summary>
internal readonly struct MessageQueueKind : IIpcKind<Msg.msqid_ds>
{
    public static IpcKindDescription Description { get; } =
        new(IpcObjectKind.MessageQueue, "msgget", "msgctl", Msg.MSG_STAT, Msg.MSG_STAT_ANY, Msg.MSG_INFO, "MSG_INFO");

    public static int Get(int key, long size, int flags) => Msg.msgget(key, flags);

    public static Exception GetFailed(int errno, in IpcCall call, long size, int flags) => IpcErrors.Create(errno, call);

    public static unsafe int Control(int idOrIndex, int command, void* buffer) => Msg.msgctl(idOrIndex, command, buffer);

    public static ref Ipc.ipc_perm Permissions(ref Msg.msqid_ds status) => ref status.msg_perm;
}
