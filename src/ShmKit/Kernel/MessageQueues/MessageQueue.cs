using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using ShmKit.Interop;
using MsgControl = ShmKit.IpcControl<ShmKit.MessageQueueKind, ShmKit.Interop.Msg.msqid_ds>;

namespace ShmKit;

/// <summary>
/// A System V message queue: a kernel object found by key or id, holding typed messages that any process with
/// permission sends (msgsnd) and receives (msgrcv). This type is a reference to the kernel object, not a process
/// resource: it holds nothing to dispose, and every method is safe to call from several threads at once.
/// <see cref="Remove()"/> deletes the queue and the messages in it.
/// </summary>
/// <remarks>
/// <para><b>Messages.</b> A message is a type (a <see cref="long"/>, at least 1) and a payload of 0 to msgmax bytes
/// (8192 on this project's machines; see <see cref="GetLimits"/>). Messages of one queue keep their send order.</para>
/// <para><b>Choosing which message to receive</b> (the <c>typeSelector</c> of <see cref="Receive"/>):</para>
/// <list type="table">
/// <listheader><term>selector</term><description>receives</description></listheader>
/// <item><term>0</term><description>the first message in the queue, whatever its type</description></item>
/// <item><term>&gt; 0</term><description>the first message of exactly that type</description></item>
/// <item><term>&gt; 0 with <see cref="MessageReceiveOptions.ExceptType"/></term><description>the first message of any other type</description></item>
/// <item><term>&lt; 0</term><description>the first message of the lowest type that is at most |selector| (a priority queue: -10 takes type 1 before type 2, and never type 11)</description></item>
/// </list>
/// <para><b>Limits.</b> msgmax (8192 here) is the largest payload; a longer one is an <see cref="IpcSizeException"/>.
/// A queue holds at most <see cref="MessageQueueInfo.MaxBytes"/> payload bytes (msg_qbytes, starting at msgmnb:
/// 16384 here) and, because the kernel uses the same number for both, at most that many messages. Only a process
/// with CAP_SYS_RESOURCE may raise it above msgmnb (<see cref="SetMaxBytes"/>); root usually has that capability,
/// but containers often drop it (this project's sandbox does).</para>
/// <para><b>Blocking.</b> <see cref="Send"/> waits while the queue is full and <see cref="Receive"/> while no
/// message matches; <see cref="TrySend"/> and <see cref="TryReceive"/> never wait (IPC_NOWAIT). A wait with
/// neither a timeout nor a cancellation token is one blocking system call: the thread sleeps in the kernel and
/// wakes as soon as the queue changes. The kernel has no timed msgsnd or msgrcv, so a wait with a timeout or a
/// token polls instead: it tries with IPC_NOWAIT, spins and yields for 24 tries, then sleeps between tries for 50 µs, doubling up
/// to 5 ms. The cost: a message that arrives during a sleep is taken up to 5 ms late, and a long wait wakes about
/// 200 times a second; cancellation and the deadline are noticed within one sleep (at most about 5 ms).
/// Interrupting a blocked call with a signal was rejected: signal handlers are process-wide, the .NET runtime owns
/// them, and a library must not install one. A wake-up message was rejected too: other processes would see it.
/// Removing the queue wakes every waiter with an <see cref="IpcObjectRemovedException"/>.</para>
/// <para><b>Cost.</b> Every message is copied twice by the kernel (the sender's memory into a kernel buffer, then
/// into the receiver's memory) and once more on each side here, because msgsnd and msgrcv need the type and
/// the payload next to each other; each call is also a system call and, for a sleeping partner, a wake-up
/// (about 70 µs per round trip between two cores here). Shared memory (<see cref="SharedMemorySegment"/>) avoids
/// all of that: both processes read and write the same pages. A queue is the simple choice when messages are
/// small, rare, or need the kernel's typed selection and blocking. Send and Receive allocate no managed memory:
/// payloads up to 8 KiB are staged on the stack, larger ones in native memory.</para>
/// <para>Permissions default to 0600 (owner read and write). Read permission is needed to receive and to
/// <see cref="Stat"/>, write permission to send; opening (by key or id), changing the mode and removing need no read
/// permission, so a queue whose owner may only send to it (0200) can be opened, used and removed by that owner.</para>
/// </remarks>
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix",
    Justification = "It is a queue: the System V name (msgget's 'message queue'), as System.Messaging.MessageQueue was. It does not derive from Queue<T> or ICollection.")]
public sealed partial class MessageQueue
{
    /// <summary>The default permission: owner read and write (0600).</summary>
    public const UnixFileMode DefaultMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private MessageQueue(int id, IpcKey key, bool wasCreated)
    {
        Id = id;
        Key = key;
        WasCreated = wasCreated;
    }

    /// <summary>The queue's id (msqid), valid in every process of the host.</summary>
    public int Id { get; }

    /// <summary>The key it was created or opened with (<see cref="IpcKey.Private"/> for private queues).</summary>
    public IpcKey Key { get; }

    /// <summary>
    /// True when the call that returned this instance created the queue (<see cref="CreateNew"/>,
    /// <see cref="CreatePrivate"/>, or <see cref="OpenOrCreate"/> when there was none); false when it opened an existing one.
    /// </summary>
    public bool WasCreated { get; }

    /// <summary>Creates a queue that must not exist yet (IPC_CREAT|IPC_EXCL).</summary>
    /// <param name="key">The key; <see cref="IpcKey.Private"/> creates a private queue.</param>
    /// <param name="mode">Permission bits; default 0600.</param>
    /// <returns>The new queue.</returns>
    /// <exception cref="IpcObjectExistsException">A queue with this key exists.</exception>
    /// <exception cref="IpcLimitExceededException">The system has msgmni queues already.</exception>
    public static MessageQueue CreateNew(IpcKey key, UnixFileMode mode = DefaultMode) =>
        new(MsgControl.Get(key, 0, Ipc.IPC_CREAT | Ipc.IPC_EXCL | IpcTime.FromPermissions(mode, nameof(mode))), key, wasCreated: true);

    /// <summary>Creates a private queue (IPC_PRIVATE): new, without a key, shared by passing its <see cref="Id"/>.</summary>
    /// <param name="mode">Permission bits; default 0600.</param>
    /// <returns>The new queue.</returns>
    public static MessageQueue CreatePrivate(UnixFileMode mode = DefaultMode) => CreateNew(IpcKey.Private, mode);

    /// <summary>
    /// Opens the queue with this key, or creates it if there is none. <see cref="WasCreated"/> tells which: this call
    /// first tries to create exclusively (IPC_CREAT|IPC_EXCL), and opens the queue only if it exists.
    /// </summary>
    /// <param name="key">The key (not <see cref="IpcKey.Private"/>).</param>
    /// <param name="mode">Permission bits when created; default 0600. msgget checks them against an existing queue as the access asked for.</param>
    /// <returns>The queue.</returns>
    public static MessageQueue OpenOrCreate(IpcKey key, UnixFileMode mode = DefaultMode)
    {
        CheckNotPrivate(key);
        int bits = IpcTime.FromPermissions(mode, nameof(mode));
        var (id, created) = MsgControl.OpenOrCreate(key, 0, bits, openFlags: bits);
        return new MessageQueue(id, key, created);
    }

    /// <summary>
    /// Opens the existing queue with this key. Opening checks no permission (msgget with no mode bits, as C
    /// programs usually do); sending, receiving and <see cref="Stat"/> do.
    /// </summary>
    /// <param name="key">The key (not <see cref="IpcKey.Private"/>).</param>
    /// <returns>The queue.</returns>
    /// <exception cref="IpcObjectNotFoundException">No queue has this key.</exception>
    public static MessageQueue Open(IpcKey key)
    {
        CheckNotPrivate(key);
        return new MessageQueue(MsgControl.Get(key, 0, 0), key, wasCreated: false);
    }

    /// <summary>
    /// Opens a queue by id (from <c>ipcs -q</c>, <see cref="GetAll"/>, or another process). Its key is read with
    /// IPC_STAT, or MSG_STAT_ANY when this user may not read the queue (as ipcs does), so no read permission is needed.
    /// </summary>
    /// <param name="id">The msqid.</param>
    /// <returns>The queue, with its key read from the kernel.</returns>
    /// <exception cref="IpcObjectNotFoundException">No queue has this id.</exception>
    public static MessageQueue OpenById(int id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        Msg.msqid_ds ds = MsgControl.StatMetadata(id, key: null, existed: false);
        return new MessageQueue(id, new IpcKey(ds.msg_perm.__key), wasCreated: false);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"msg id {Id} key {Key}");

    private IpcCall Call(string operation) => new(IpcObjectKind.MessageQueue, operation, Key, Id);

    private static void CheckType(long type)
    {
        if (type < 1)
        {
            ThrowBadType(type);
        }
    }

    [DoesNotReturn]
    private static void ThrowBadType(long type) =>
        throw new ArgumentOutOfRangeException(nameof(type), type,
            "A message type must be at least 1 (msgsnd rejects 0 and negative types; those are receive selectors, not types).");

    private static int CheckReceiveOptions(MessageReceiveOptions options, long typeSelector)
    {
        const MessageReceiveOptions all = MessageReceiveOptions.Truncate | MessageReceiveOptions.ExceptType;
        if ((options & ~all) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options, "Unknown MessageReceiveOptions flag.");
        }

        if ((options & MessageReceiveOptions.ExceptType) != 0 && typeSelector <= 0)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"MessageReceiveOptions.ExceptType needs a positive typeSelector (the type to skip), not {typeSelector}: the kernel ignores MSG_EXCEPT for 0 and negative selectors."),
                nameof(options));
        }

        return (int)options;
    }

    private static void CheckNotPrivate(IpcKey key)
    {
        if (key.IsPrivate)
        {
            throw new ArgumentException("IpcKey.Private always creates a new queue: use CreatePrivate, or OpenById with the id of an existing one.", nameof(key));
        }
    }
}
