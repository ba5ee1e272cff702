using System.Globalization;
using ShmKit.Interop;

namespace ShmKit;

/// <summary>The errors particular to message queues (msgget, msgsnd, msgrcv, msgctl).</summary>
internal static class MessageQueueErrors
{
    /// <summary>msgsnd and msgrcv report an id that is no longer in use as EINVAL; to a caller that held it, it was removed.</summary>
    private const string RemovedMessage =
        "the queue no longer exists: it was removed (IPC_RMID), so its id is stale. Create or open it again.";

    /// <summary>msgsnd failed. EINVAL means a bad size, a bad type (checked before the call) or an id that is not in use.</summary>
    internal static Exception ForSend(int errno, in IpcCall call, int payloadLength)
    {
        if (errno != Errno.EINVAL)
        {
            return IpcErrors.Create(errno, call);
        }

        return ReadMsgmax() is int msgmax && payloadLength > msgmax
            ? TooLong(call, payloadLength, msgmax)
            : IpcErrors.Create(Errno.EIDRM, call, RemovedMessage);
    }

    /// <summary>msgrcv failed: E2BIG is a message larger than the buffer; EINVAL (the length is never negative here) a stale id.</summary>
    internal static Exception ForReceive(int errno, in IpcCall call, int bufferLength) => errno switch
    {
        Errno.E2BIG => IpcErrors.Create(errno, call, string.Create(CultureInfo.InvariantCulture,
            $"the message size is larger than the buffer of {bufferLength} bytes (E2BIG); the message stays in the queue. Receive it with a buffer of {(ReadMsgmax() is int msgmax ? string.Create(CultureInfo.InvariantCulture, $"msgmax={msgmax} bytes") : "msgmax bytes")} (every message fits), or pass MessageReceiveOptions.Truncate to take it cut to the buffer.")),
        Errno.EINVAL => IpcErrors.Create(Errno.EIDRM, call, RemovedMessage),
        _ => IpcErrors.Create(errno, call),
    };

    /// <summary>A payload longer than msgmax: refused before it is copied (or after the kernel said EINVAL).</summary>
    internal static Exception TooLong(in IpcCall call, int payloadLength, int msgmax) =>
        IpcErrors.Create(Errno.EINVAL, call, string.Create(CultureInfo.InvariantCulture,
            $"the payload of {payloadLength} bytes is longer than msgmax={msgmax} bytes, the largest message the system accepts. Send smaller messages (split it, or use shared memory for bulk data), or raise kernel.msgmax."));

    /// <summary>A polling send found the queue full until its timeout passed.</summary>
    internal static TimeoutException SendTimeout(in IpcCall call, TimeSpan timeout) =>
        new(string.Create(CultureInfo.InvariantCulture,
            $"msgsnd timed out after {timeout.TotalMilliseconds:0.###} ms for the {call.Describe()}: the queue stayed full. Receive messages from it, raise its capacity (SetMaxBytes), or wait longer."));

    /// <summary>A polling receive found no matching message until its timeout passed.</summary>
    internal static TimeoutException ReceiveTimeout(in IpcCall call, TimeSpan timeout, long typeSelector) =>
        new(string.Create(CultureInfo.InvariantCulture,
            $"msgrcv timed out after {timeout.TotalMilliseconds:0.###} ms for the {call.Describe()}: no message matched the type selector {typeSelector}. Check that a sender uses this queue and type, or wait longer."));

    /// <summary>
    /// msgctl(IPC_SET) failed. EPERM with a capacity above msgmnb is the CAP_SYS_RESOURCE rule, not ownership.
    /// </summary>
    internal static unsafe Exception ForSet(int errno, in IpcCall call, ulong capacity)
    {
        string? detail = null;
        Msg.msginfo info;
        if (errno == Errno.EPERM && Msg.msgctl(0, Ipc.IPC_INFO, &info) >= 0 && capacity > (ulong)info.msgmnb)
        {
            detail = string.Create(CultureInfo.InvariantCulture,
                $"permission denied: a capacity (msg_qbytes) of {capacity} bytes is above msgmnb={info.msgmnb}, which needs CAP_SYS_RESOURCE (root usually has it; containers often drop it), and the caller must also be the owner, the creator or privileged. Ask for at most {info.msgmnb} bytes, grant CAP_SYS_RESOURCE, or raise kernel.msgmnb.");
        }

        return IpcErrors.ForControl(errno, call, existed: true, detail);
    }

    /// <summary>ENOSPC from msgget: which limit, with the number, or null if it cannot be read.</summary>
    internal static unsafe string? DescribeLimit()
    {
        Msg.msginfo info;
        return Msg.msgctl(0, Ipc.IPC_INFO, &info) < 0
            ? null
            : string.Create(CultureInfo.InvariantCulture,
                $"the system is out of message queues: at most msgmni={info.msgmni} queues. Remove unused queues (`ipcs -q` lists them, `ipcrm -q id` removes one) or raise kernel.msgmni.");
    }

    /// <summary>msgmax, the largest payload, or null if IPC_INFO fails.</summary>
    internal static unsafe int? ReadMsgmax()
    {
        Msg.msginfo info;
        return Msg.msgctl(0, Ipc.IPC_INFO, &info) >= 0 ? info.msgmax : null;
    }
}
