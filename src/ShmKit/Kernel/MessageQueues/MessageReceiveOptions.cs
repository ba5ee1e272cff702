using ShmKit.Interop;

namespace ShmKit;

/// <summary>Flags for <see cref="MessageQueue.Receive"/> and <see cref="MessageQueue.TryReceive"/> (msgrcv's msgflg).</summary>
[Flags]
public enum MessageReceiveOptions
{
    /// <summary>
    /// Take the whole message or nothing: a message larger than the buffer is not received, an
    /// <see cref="IpcSizeException"/> is thrown (E2BIG), and the message stays in the queue.
    /// </summary>
    None = 0,

    /// <summary>
    /// MSG_NOERROR: a message larger than the buffer is received cut to the buffer's length; the rest of it is
    /// lost. The returned length is then the buffer's length, so a caller cannot tell that it was cut.
    /// </summary>
    Truncate = Msg.MSG_NOERROR,

    /// <summary>
    /// MSG_EXCEPT: with a positive type selector, take the first message whose type is NOT the selector.
    /// The kernel ignores it for a selector of 0 or below, so that combination is rejected.
    /// </summary>
    ExceptType = Msg.MSG_EXCEPT,
}
