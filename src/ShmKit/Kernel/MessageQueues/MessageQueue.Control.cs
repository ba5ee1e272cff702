using ShmKit.Interop;
using MsgControl = ShmKit.IpcControl<ShmKit.MessageQueueKind, ShmKit.Interop.Msg.msqid_ds>;

namespace ShmKit;

/// <content>Control: the status, permissions, capacity, removal, limits and the listing (msgctl).</content>
public sealed partial class MessageQueue
{
    /// <summary>Reads everything the kernel keeps about the queue (IPC_STAT). Needs read permission.</summary>
    /// <returns>A snapshot of <c>struct msqid_ds</c>.</returns>
    /// <exception cref="IpcObjectRemovedException">The queue has been removed.</exception>
    /// <exception cref="IpcAccessDeniedException">This user may not read the queue (<c>ipcs -q</c> shows its owner and mode).</exception>
    public MessageQueueInfo Stat() => ToInfo(Id, MsgControl.Stat(Id, Key, existed: true));

    /// <summary>Changes the permission bits (IPC_SET). Only the owner, the creator or root may.</summary>
    /// <param name="mode">The new permission bits (0777 at most).</param>
    /// <remarks>
    /// IPC_SET writes the capacity too (the current one is passed back unchanged), and the kernel checks it
    /// again: if root raised the capacity above msgmnb, only a process with CAP_SYS_RESOURCE may change the mode
    /// or owner afterwards.
    /// </remarks>
    public void SetMode(UnixFileMode mode)
    {
        int bits = IpcTime.FromPermissions(mode, nameof(mode));
        Set((uint)bits, userId: null, groupId: null, maxBytes: null);
    }

    /// <summary>Changes the owner (IPC_SET). Only the owner, the creator or root may.</summary>
    /// <param name="userId">The new owner's user id.</param>
    /// <param name="groupId">The new owner's group id.</param>
    /// <remarks>See <see cref="SetMode"/> about a capacity above msgmnb.</remarks>
    public void SetOwner(uint userId, uint groupId) => Set(mode: null, userId, groupId, maxBytes: null);

    /// <summary>
    /// Changes the queue's capacity, msg_qbytes (IPC_SET): the most payload bytes, and the most messages, it
    /// holds. Only the owner, the creator or root may; above msgmnb only a process with CAP_SYS_RESOURCE (which root
    /// usually has, but containers often drop).
    /// Lowering it below what the queue holds keeps the messages; senders then wait until enough are received.
    /// </summary>
    /// <param name="maxBytes">The new capacity, 1 to <see cref="int.MaxValue"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBytes"/> is outside 1..<see cref="int.MaxValue"/>.</exception>
    /// <exception cref="IpcAccessDeniedException">Not the owner, or above msgmnb without CAP_SYS_RESOURCE.</exception>
    public void SetMaxBytes(long maxBytes)
    {
        // 0 is legal for the kernel but makes a queue that accepts no message at all: every send waits forever.
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxBytes, int.MaxValue);
        Set(mode: null, userId: null, groupId: null, (ulong)maxBytes);
    }

    /// <summary>
    /// Removes the queue and every message in it at once (IPC_RMID). Processes waiting in send or receive wake
    /// with an <see cref="IpcObjectRemovedException"/>.
    /// </summary>
    /// <exception cref="IpcAccessDeniedException">Only the owner, the creator or root may remove it.</exception>
    /// <exception cref="IpcObjectRemovedException">It was removed already.</exception>
    public void Remove() => MsgControl.Remove(Id, Key, existed: true);

    /// <summary>Removes the queue with this id (IPC_RMID), as <c>ipcrm -q</c> does.</summary>
    /// <param name="id">The msqid.</param>
    public static void Remove(int id) => MsgControl.Remove(id, key: null, existed: false);

    /// <summary>The host's limits (IPC_INFO) and current usage (MSG_INFO).</summary>
    /// <returns>msgmax, msgmnb, msgmni and the queues, messages and bytes in use.</returns>
    public static MessageQueueLimits GetLimits()
    {
        var (_, info) = MsgControl.Query<Msg.msginfo>(Ipc.IPC_INFO, "IPC_INFO");
        var (_, usage) = MsgControl.Query<Msg.msginfo>(Msg.MSG_INFO, "MSG_INFO");

        return new MessageQueueLimits
        {
            MaxMessageSize = info.msgmax,
            MaxQueueBytes = info.msgmnb,
            MaxQueues = info.msgmni,
            // MSG_INFO reuses three msginfo fields for usage: msgpool = queues, msgmap = messages, msgtql = bytes.
            QueuesInUse = usage.msgpool,
            MessagesInUse = usage.msgmap,
            BytesInUse = usage.msgtql,
        };
    }

    /// <summary>
    /// Every queue on the host, like <c>ipcs -q</c> (MSG_STAT_ANY, which ignores read permission as
    /// /proc/sysvipc/msg does; MSG_STAT on kernels without it, before 4.17, which skips queues this user may not read).
    /// </summary>
    /// <returns>One snapshot per queue, ordered by id.</returns>
    public static IReadOnlyList<MessageQueueInfo> GetAll() => MsgControl.GetAll(ToInfo);

    private void Set(uint? mode, uint? userId, uint? groupId, ulong? maxBytes)
    {
        // IPC_SET reads uid, gid, the permission bits of mode and msg_qbytes; the rest of the struct is ignored.
        Msg.msqid_ds ds = MsgControl.StatMetadata(Id, Key, existed: true);
        MsgControl.ApplyPermissions(ref ds, mode, userId, groupId);
        ds.msg_qbytes = maxBytes ?? ds.msg_qbytes;
        if (MsgControl.TrySet(Id, ref ds) < 0)
        {
            throw MessageQueueErrors.ForSet(Errno.Last, Call("msgctl(IPC_SET)"), ds.msg_qbytes);
        }
    }

    private static MessageQueueInfo ToInfo(int id, in Msg.msqid_ds ds) => new()
    {
        Key = new IpcKey(ds.msg_perm.__key),
        Id = id,
        Mode = IpcTime.ToPermissions(ds.msg_perm.mode),
        OwnerUserId = ds.msg_perm.uid,
        OwnerGroupId = ds.msg_perm.gid,
        CreatorUserId = ds.msg_perm.cuid,
        CreatorGroupId = ds.msg_perm.cgid,
        LastSendTime = IpcTime.FromUnixSeconds(ds.msg_stime),
        LastReceiveTime = IpcTime.FromUnixSeconds(ds.msg_rtime),
        LastChangeTime = IpcTime.FromUnixSeconds(ds.msg_ctime),
        CurrentBytes = (long)ds.__msg_cbytes,
        MessageCount = (long)ds.msg_qnum,
        MaxBytes = (long)ds.msg_qbytes,
        LastSendProcessId = ds.msg_lspid,
        LastReceiveProcessId = ds.msg_lrpid,
    };
}
