using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ShmKit.Interop;

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
/// <see cref="Stat"/>, write permission to send.</para>
/// </remarks>
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix",
    Justification = "It is a queue: the System V name (msgget's 'message queue'), as System.Messaging.MessageQueue was. It does not derive from Queue<T> or ICollection.")]
public sealed class MessageQueue
{
    /// <summary>The default permission: owner read and write (0600).</summary>
    public const UnixFileMode DefaultMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Payloads (and receive buffers) up to this many bytes are staged on the stack, larger ones in native memory.</summary>
    private const int StackPayloadLimit = 8192;

    /// <summary>The <c>long mtype</c> that precedes the payload in the buffer msgsnd and msgrcv take.</summary>
    private const int HeaderSize = sizeof(long);

    /// <summary>msgsnd and msgrcv report an id that is no longer in use as EINVAL; to a caller that held it, it was removed.</summary>
    private const string RemovedMessage =
        "the queue no longer exists: it was removed (IPC_RMID), so its id is stale. Create or open it again.";

    private MessageQueue(int id, IpcKey key)
    {
        Id = id;
        Key = key;
    }

    /// <summary>The queue's id (msqid), valid in every process of the host.</summary>
    public int Id { get; }

    /// <summary>The key it was created or opened with (<see cref="IpcKey.Private"/> for private queues).</summary>
    public IpcKey Key { get; }

    /// <summary>Creates a queue that must not exist yet (IPC_CREAT|IPC_EXCL).</summary>
    /// <param name="key">The key; <see cref="IpcKey.Private"/> creates a private queue.</param>
    /// <param name="mode">Permission bits; default 0600.</param>
    /// <returns>The new queue.</returns>
    /// <exception cref="IpcObjectExistsException">A queue with this key exists.</exception>
    /// <exception cref="IpcLimitExceededException">The system has msgmni queues already.</exception>
    public static MessageQueue CreateNew(IpcKey key, UnixFileMode mode = DefaultMode) =>
        Get(key, Ipc.IPC_CREAT | Ipc.IPC_EXCL | IpcTime.FromPermissions(mode, nameof(mode)));

    /// <summary>Creates a private queue (IPC_PRIVATE): new, without a key, shared by passing its <see cref="Id"/>.</summary>
    /// <param name="mode">Permission bits; default 0600.</param>
    /// <returns>The new queue.</returns>
    public static MessageQueue CreatePrivate(UnixFileMode mode = DefaultMode) => CreateNew(IpcKey.Private, mode);

    /// <summary>Opens the queue with this key, or creates it if there is none (IPC_CREAT).</summary>
    /// <param name="key">The key (not <see cref="IpcKey.Private"/>).</param>
    /// <param name="mode">Permission bits when created; default 0600.</param>
    /// <returns>The queue.</returns>
    public static MessageQueue OpenOrCreate(IpcKey key, UnixFileMode mode = DefaultMode)
    {
        CheckNotPrivate(key);
        return Get(key, Ipc.IPC_CREAT | IpcTime.FromPermissions(mode, nameof(mode)));
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
        return Get(key, 0);
    }

    /// <summary>Opens a queue by id (from <c>ipcs -q</c>, <see cref="GetAll"/>, or another process). Needs read permission.</summary>
    /// <param name="id">The msqid.</param>
    /// <returns>The queue, with its key read from the kernel.</returns>
    /// <exception cref="IpcObjectNotFoundException">No queue has this id.</exception>
    public static unsafe MessageQueue OpenById(int id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        Msg.msqid_ds ds;
        if (Msg.msgctl(id, Ipc.IPC_STAT, &ds) < 0)
        {
            ThrowStatFailed(Errno.Last, new IpcCall(IpcObjectKind.MessageQueue, "msgctl(IPC_STAT)", Id: id), existed: false);
        }

        return new MessageQueue(id, new IpcKey(ds.msg_perm.__key));
    }

    /// <summary>
    /// Sends a message (msgsnd), waiting while the queue is full. Without a timeout and a token this is one
    /// blocking call; with either it polls (see the remarks on <see cref="MessageQueue"/>).
    /// </summary>
    /// <param name="type">The message type, at least 1; receivers select by it.</param>
    /// <param name="payload">The payload, 0 to msgmax bytes. It is copied; the span may be reused at once.</param>
    /// <param name="timeout">How long to wait for room; null or <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit.</param>
    /// <param name="cancellationToken">Stops the wait.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is below 1.</exception>
    /// <exception cref="IpcSizeException">The payload is longer than msgmax.</exception>
    /// <exception cref="TimeoutException">The queue stayed full for <paramref name="timeout"/>.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="IpcObjectRemovedException">The queue was removed, before or during the wait.</exception>
    /// <exception cref="IpcAccessDeniedException">The mode does not grant this user write access.</exception>
    public void Send(long type, ReadOnlySpan<byte> payload, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        CheckType(type);
        TimeSpan? limit = PollingWait.Validate(timeout, nameof(timeout));
        cancellationToken.ThrowIfCancellationRequested();
        SendCore(type, payload, noWait: false, limit, cancellationToken);
    }

    /// <summary>Sends a message if there is room now (msgsnd with IPC_NOWAIT); never waits.</summary>
    /// <param name="type">The message type, at least 1.</param>
    /// <param name="payload">The payload, 0 to msgmax bytes.</param>
    /// <returns>True when sent; false when the queue is full (its bytes or its message count are at <see cref="MessageQueueInfo.MaxBytes"/>).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is below 1.</exception>
    /// <exception cref="IpcSizeException">The payload is longer than msgmax.</exception>
    /// <exception cref="IpcObjectRemovedException">The queue was removed.</exception>
    /// <exception cref="IpcAccessDeniedException">The mode does not grant this user write access.</exception>
    public bool TrySend(long type, ReadOnlySpan<byte> payload)
    {
        CheckType(type);
        return SendCore(type, payload, noWait: true, limit: null, CancellationToken.None);
    }

    /// <summary>
    /// Receives a message (msgrcv), waiting until one matches <paramref name="typeSelector"/>. Without a timeout
    /// and a token this is one blocking call; with either it polls (see the remarks on <see cref="MessageQueue"/>).
    /// </summary>
    /// <param name="buffer">Where the payload goes. A buffer of msgmax bytes fits every message.</param>
    /// <param name="type">The received message's type.</param>
    /// <param name="typeSelector">0: the first message; &gt; 0: the first of this type (or of another type, with
    /// <see cref="MessageReceiveOptions.ExceptType"/>); &lt; 0: the first of the lowest type at most |selector|.</param>
    /// <param name="options">Truncation and type exclusion.</param>
    /// <param name="timeout">How long to wait for a message; null or <see cref="Timeout.InfiniteTimeSpan"/> waits without a limit.</param>
    /// <param name="cancellationToken">Stops the wait.</param>
    /// <returns>The payload's length: the bytes written to the start of <paramref name="buffer"/>.</returns>
    /// <exception cref="IpcSizeException">The message is larger than the buffer and <see cref="MessageReceiveOptions.Truncate"/>
    /// was not given; the message stays in the queue.</exception>
    /// <exception cref="TimeoutException">No message matched for <paramref name="timeout"/>.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="IpcObjectRemovedException">The queue was removed, before or during the wait.</exception>
    /// <exception cref="IpcAccessDeniedException">The mode does not grant this user read access.</exception>
    public int Receive(Span<byte> buffer, out long type, long typeSelector = 0, MessageReceiveOptions options = MessageReceiveOptions.None, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        int flags = CheckReceiveOptions(options, typeSelector);
        TimeSpan? limit = PollingWait.Validate(timeout, nameof(timeout));
        cancellationToken.ThrowIfCancellationRequested();
        return ReceiveCore(buffer, out type, typeSelector, flags, noWait: false, limit, cancellationToken);
    }

    /// <summary>Receives a message if one matches now (msgrcv with IPC_NOWAIT); never waits.</summary>
    /// <param name="buffer">Where the payload goes.</param>
    /// <param name="length">The payload's length, or 0 when nothing was received.</param>
    /// <param name="type">The received message's type, or 0 when nothing was received.</param>
    /// <param name="typeSelector">Which message: see <see cref="Receive"/>.</param>
    /// <param name="options">Truncation and type exclusion.</param>
    /// <returns>True when a message was received; false when none matches.</returns>
    /// <exception cref="IpcSizeException">The message is larger than the buffer and <see cref="MessageReceiveOptions.Truncate"/>
    /// was not given; the message stays in the queue.</exception>
    /// <exception cref="IpcObjectRemovedException">The queue was removed.</exception>
    /// <exception cref="IpcAccessDeniedException">The mode does not grant this user read access.</exception>
    public bool TryReceive(Span<byte> buffer, out int length, out long type, long typeSelector = 0, MessageReceiveOptions options = MessageReceiveOptions.None)
    {
        int flags = CheckReceiveOptions(options, typeSelector);
        length = ReceiveCore(buffer, out type, typeSelector, flags, noWait: true, limit: null, CancellationToken.None);
        if (length < 0)
        {
            length = 0;
            return false;
        }

        return true;
    }

    /// <summary>Reads everything the kernel keeps about the queue (IPC_STAT). Needs read permission.</summary>
    /// <returns>A snapshot of <c>struct msqid_ds</c>.</returns>
    /// <exception cref="IpcObjectRemovedException">The queue has been removed.</exception>
    public unsafe MessageQueueInfo Stat()
    {
        Msg.msqid_ds ds;
        if (Msg.msgctl(Id, Ipc.IPC_STAT, &ds) < 0)
        {
            ThrowStatFailed(Errno.Last, Call("msgctl(IPC_STAT)"));
        }

        return ToInfo(Id, ds);
    }

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
    public unsafe void Remove()
    {
        if (Msg.msgctl(Id, Ipc.IPC_RMID, null) < 0)
        {
            ThrowStatFailed(Errno.Last, Call("msgctl(IPC_RMID)"));
        }
    }

    /// <summary>Removes the queue with this id (IPC_RMID), as <c>ipcrm -q</c> does.</summary>
    /// <param name="id">The msqid.</param>
    public static unsafe void Remove(int id)
    {
        if (Msg.msgctl(id, Ipc.IPC_RMID, null) < 0)
        {
            ThrowStatFailed(Errno.Last, new IpcCall(IpcObjectKind.MessageQueue, "msgctl(IPC_RMID)", Id: id), existed: false);
        }
    }

    /// <summary>The host's limits (IPC_INFO) and current usage (MSG_INFO).</summary>
    /// <returns>msgmax, msgmnb, msgmni and the queues, messages and bytes in use.</returns>
    public static unsafe MessageQueueLimits GetLimits()
    {
        Msg.msginfo info;
        Msg.msginfo usage;
        if (Msg.msgctl(0, Ipc.IPC_INFO, &info) < 0)
        {
            IpcErrors.ThrowLast(new IpcCall(IpcObjectKind.MessageQueue, "msgctl(IPC_INFO)"));
        }

        if (Msg.msgctl(0, Msg.MSG_INFO, &usage) < 0)
        {
            IpcErrors.ThrowLast(new IpcCall(IpcObjectKind.MessageQueue, "msgctl(MSG_INFO)"));
        }

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
    /// /proc/sysvipc/msg does; MSG_STAT on kernels before 4.17, which skips queues this user may not read).
    /// </summary>
    /// <returns>One snapshot per queue, ordered by id.</returns>
    public static unsafe IReadOnlyList<MessageQueueInfo> GetAll()
    {
        Msg.msginfo usage;
        int maxIndex = Msg.msgctl(0, Msg.MSG_INFO, &usage);
        if (maxIndex < 0)
        {
            IpcErrors.ThrowLast(new IpcCall(IpcObjectKind.MessageQueue, "msgctl(MSG_INFO)"));
        }

        return IpcEnumeration.Collect(maxIndex, static (index, any) =>
        {
            Msg.msqid_ds ds;
            int id = Msg.msgctl(index, any ? Msg.MSG_STAT_ANY : Msg.MSG_STAT, &ds);
            return id >= 0 ? ToInfo(id, ds) : null;
        });
    }

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"msg id {Id} key {Key}");

    private IpcCall Call(string operation) => new(IpcObjectKind.MessageQueue, operation, Key, Id);

    /// <summary>
    /// Builds the kernel's message (<c>long mtype</c> then the payload) on the stack, or in native memory above
    /// <see cref="StackPayloadLimit"/>, so no send allocates managed memory; then sends it without waiting, with one
    /// blocking call, or by polling.
    /// </summary>
    /// <returns>False only when <paramref name="noWait"/> and the queue is full.</returns>
    [SkipLocalsInit]
    private unsafe bool SendCore(long type, ReadOnlySpan<byte> payload, bool noWait, TimeSpan? limit, CancellationToken cancellationToken)
    {
        Span<byte> message = payload.Length <= StackPayloadLimit ? stackalloc byte[HeaderSize + payload.Length] : default;
        byte* native = null;
        try
        {
            if (payload.Length > StackPayloadLimit)
            {
                CheckAgainstMsgmax(payload.Length);
                native = (byte*)NativeMemory.Alloc((nuint)HeaderSize + (nuint)payload.Length);
                message = new Span<byte>(native, HeaderSize + payload.Length);
            }

            MemoryMarshal.Write(message, in type);
            payload.CopyTo(message[HeaderSize..]);
            fixed (byte* p = message)
            {
                if (noWait)
                {
                    return SendOnce(p, payload.Length, Ipc.IPC_NOWAIT);
                }

                if (limit is null && !cancellationToken.CanBeCanceled)
                {
                    SendBlocking(p, payload.Length);
                }
                else
                {
                    SendPolling(p, payload.Length, limit, cancellationToken);
                }

                return true;
            }
        }
        finally
        {
            NativeMemory.Free(native);
        }
    }

    /// <summary>
    /// Receives into a kernel-format buffer on the stack (or in native memory for large buffers) and copies the
    /// payload out: no managed allocation.
    /// </summary>
    /// <returns>The payload length, or -1 when <paramref name="noWait"/> and nothing matches.</returns>
    [SkipLocalsInit]
    private unsafe int ReceiveCore(Span<byte> buffer, out long type, long typeSelector, int flags, bool noWait, TimeSpan? limit, CancellationToken cancellationToken)
    {
        Span<byte> message = buffer.Length <= StackPayloadLimit ? stackalloc byte[HeaderSize + buffer.Length] : default;
        byte* native = null;
        try
        {
            if (buffer.Length > StackPayloadLimit)
            {
                native = (byte*)NativeMemory.Alloc((nuint)HeaderSize + (nuint)buffer.Length);
                message = new Span<byte>(native, HeaderSize + buffer.Length);
            }

            fixed (byte* p = message)
            {
                int length = noWait ? ReceiveOnce(p, buffer.Length, typeSelector, flags | Ipc.IPC_NOWAIT)
                    : limit is null && !cancellationToken.CanBeCanceled ? ReceiveBlocking(p, buffer.Length, typeSelector, flags)
                    : ReceivePolling(p, buffer.Length, typeSelector, flags, limit, cancellationToken);
                if (length < 0)
                {
                    type = 0;
                    return -1;
                }

                type = Unsafe.ReadUnaligned<long>(p);
                new ReadOnlySpan<byte>(p + HeaderSize, length).CopyTo(buffer);
                return length;
            }
        }
        finally
        {
            NativeMemory.Free(native);
        }
    }

    private unsafe void SendBlocking(byte* message, int payloadLength)
    {
        while (Msg.msgsnd(Id, message, (nuint)payloadLength, 0) < 0)
        {
            int errno = Errno.Last;
            if (errno != Errno.EINTR)
            {
                ThrowSendFailed(errno, payloadLength);
            }
        }
    }

    private unsafe void SendPolling(byte* message, int payloadLength, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var wait = new PollingWait(timeout);
        while (!SendOnce(message, payloadLength, Ipc.IPC_NOWAIT))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!wait.Pause())
            {
                throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                    $"msgsnd timed out after {timeout.GetValueOrDefault().TotalMilliseconds:0.###} ms for the {Call("msgsnd").Describe()}: the queue stayed full. Receive messages from it, raise its capacity (SetMaxBytes), or wait longer."));
            }
        }
    }

    /// <summary>One msgsnd, EINTR retried.</summary>
    /// <returns>False only for EAGAIN: IPC_NOWAIT and the queue is full.</returns>
    private unsafe bool SendOnce(byte* message, int payloadLength, int flags)
    {
        while (Msg.msgsnd(Id, message, (nuint)payloadLength, flags) < 0)
        {
            int errno = Errno.Last;
            if (errno == Errno.EAGAIN && (flags & Ipc.IPC_NOWAIT) != 0)
            {
                return false;
            }

            if (errno != Errno.EINTR)
            {
                ThrowSendFailed(errno, payloadLength);
            }
        }

        return true;
    }

    /// <summary>One blocking msgrcv, EINTR retried: without IPC_NOWAIT it returns only with a message or an error.</summary>
    private unsafe int ReceiveBlocking(byte* message, int bufferLength, long typeSelector, int flags) =>
        ReceiveOnce(message, bufferLength, typeSelector, flags);

    private unsafe int ReceivePolling(byte* message, int bufferLength, long typeSelector, int flags, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var wait = new PollingWait(timeout);
        int length;
        while ((length = ReceiveOnce(message, bufferLength, typeSelector, flags | Ipc.IPC_NOWAIT)) < 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!wait.Pause())
            {
                throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                    $"msgrcv timed out after {timeout.GetValueOrDefault().TotalMilliseconds:0.###} ms for the {Call("msgrcv").Describe()}: no message matched the type selector {typeSelector}. Check that a sender uses this queue and type, or wait longer."));
            }
        }

        return length;
    }

    /// <summary>One msgrcv, EINTR retried.</summary>
    /// <returns>The payload length, or -1 only for ENOMSG (IPC_NOWAIT and no message matches).</returns>
    private unsafe int ReceiveOnce(byte* message, int bufferLength, long typeSelector, int flags)
    {
        while (true)
        {
            nint received = Msg.msgrcv(Id, message, (nuint)bufferLength, typeSelector, flags);
            if (received >= 0)
            {
                return (int)received;
            }

            int errno = Errno.Last;
            if (errno == Errno.ENOMSG && (flags & Ipc.IPC_NOWAIT) != 0)
            {
                return -1;
            }

            if (errno != Errno.EINTR)
            {
                ThrowReceiveFailed(errno, bufferLength);
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private unsafe void ThrowSendFailed(int errno, int payloadLength)
    {
        var call = Call("msgsnd");
        if (errno == Errno.EINVAL)
        {
            // EINVAL means a bad size, a bad type (checked before the call) or an id that is not in use.
            Msg.msginfo info;
            if (Msg.msgctl(0, Ipc.IPC_INFO, &info) >= 0 && payloadLength > info.msgmax)
            {
                IpcErrors.Throw(errno, call, TooLongMessage(payloadLength, info.msgmax));
            }

            IpcErrors.Throw(Errno.EIDRM, call, RemovedMessage);
        }

        IpcErrors.Throw(errno, call);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private unsafe void ThrowReceiveFailed(int errno, int bufferLength)
    {
        var call = Call("msgrcv");
        switch (errno)
        {
            case Errno.E2BIG:
            {
                Msg.msginfo info;
                string largest = Msg.msgctl(0, Ipc.IPC_INFO, &info) >= 0
                    ? string.Create(CultureInfo.InvariantCulture, $"msgmax={info.msgmax} bytes")
                    : "msgmax bytes";
                IpcErrors.Throw(errno, call, string.Create(CultureInfo.InvariantCulture,
                    $"the message size is larger than the buffer of {bufferLength} bytes (E2BIG); the message stays in the queue. Receive it with a buffer of {largest} (every message fits), or pass MessageReceiveOptions.Truncate to take it cut to the buffer."));
                break;
            }

            case Errno.EINVAL:
                // The buffer length is never negative here, so EINVAL means the id is not in use.
                IpcErrors.Throw(Errno.EIDRM, call, RemovedMessage);
                break;

            default:
                IpcErrors.Throw(errno, call);
                break;
        }
    }

    private void CheckAgainstMsgmax(int payloadLength)
    {
        // Only for payloads above the stack limit: refuse before allocating a buffer for a message the kernel rejects.
        if (ReadMsgmax() is int msgmax && payloadLength > msgmax)
        {
            IpcErrors.Throw(Errno.EINVAL, Call("msgsnd"), TooLongMessage(payloadLength, msgmax));
        }
    }

    private static unsafe int? ReadMsgmax()
    {
        Msg.msginfo info;
        return Msg.msgctl(0, Ipc.IPC_INFO, &info) >= 0 ? info.msgmax : null;
    }

    private static string TooLongMessage(int payloadLength, int msgmax) => string.Create(CultureInfo.InvariantCulture,
        $"the payload of {payloadLength} bytes is longer than msgmax={msgmax} bytes, the largest message the system accepts. Send smaller messages (split it, or use shared memory for bulk data), or raise kernel.msgmax.");

    private unsafe void Set(uint? mode, uint? userId, uint? groupId, ulong? maxBytes)
    {
        Msg.msqid_ds ds;
        if (Msg.msgctl(Id, Ipc.IPC_STAT, &ds) < 0)
        {
            ThrowStatFailed(Errno.Last, Call("msgctl(IPC_STAT)"));
        }

        // IPC_SET reads uid, gid, the permission bits of mode and msg_qbytes; the rest of the struct is ignored.
        ds.msg_perm.mode = mode ?? (ds.msg_perm.mode & 0x1FF);
        ds.msg_perm.uid = userId ?? ds.msg_perm.uid;
        ds.msg_perm.gid = groupId ?? ds.msg_perm.gid;
        ds.msg_qbytes = maxBytes ?? ds.msg_qbytes;
        if (Msg.msgctl(Id, Ipc.IPC_SET, &ds) < 0)
        {
            int errno = Errno.Last;
            string? detail = null;
            Msg.msginfo info;
            if (errno == Errno.EPERM && Msg.msgctl(0, Ipc.IPC_INFO, &info) >= 0 && ds.msg_qbytes > (ulong)info.msgmnb)
            {
                detail = string.Create(CultureInfo.InvariantCulture,
                    $"permission denied: a capacity (msg_qbytes) of {ds.msg_qbytes} bytes is above msgmnb={info.msgmnb}, which needs CAP_SYS_RESOURCE (root usually has it; containers often drop it), and the caller must also be the owner, the creator or privileged. Ask for at most {info.msgmnb} bytes, grant CAP_SYS_RESOURCE, or raise kernel.msgmnb.");
            }

            ThrowStatFailed(errno, Call("msgctl(IPC_SET)"), detail);
        }
    }

    private static MessageQueue Get(IpcKey key, int flags)
    {
        int id = Msg.msgget(key.Value, flags);
        if (id < 0)
        {
            IpcErrors.ThrowLast(new IpcCall(IpcObjectKind.MessageQueue, "msgget", key));
        }

        return new MessageQueue(id, key);
    }

    private static void ThrowStatFailed(int errno, in IpcCall call, string? detail = null, bool existed = true) =>
        throw IpcErrors.ForControl(errno, call, existed, detail);

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
