using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ShmKit.Interop;

namespace ShmKit;

/// <content>Sending and receiving: msgsnd and msgrcv, blocking, non-blocking and polling (see the remarks on <see cref="MessageQueue"/>).</content>
public sealed partial class MessageQueue
{
    /// <summary>Payloads (and receive buffers) up to this many bytes are staged on the stack, larger ones in native memory.</summary>
    private const int StackPayloadLimit = 8192;

    /// <summary>The <c>long mtype</c> that precedes the payload in the buffer msgsnd and msgrcv take.</summary>
    private const int HeaderSize = sizeof(long);

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
                throw MessageQueueErrors.SendTimeout(Call("msgsnd"), timeout.GetValueOrDefault());
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
                throw MessageQueueErrors.ReceiveTimeout(Call("msgrcv"), timeout.GetValueOrDefault(), typeSelector);
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
    private void ThrowSendFailed(int errno, int payloadLength) =>
        throw MessageQueueErrors.ForSend(errno, Call("msgsnd"), payloadLength);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowReceiveFailed(int errno, int bufferLength) =>
        throw MessageQueueErrors.ForReceive(errno, Call("msgrcv"), bufferLength);

    private void CheckAgainstMsgmax(int payloadLength)
    {
        // Only for payloads above the stack limit: refuse before allocating a buffer for a message the kernel rejects.
        if (MessageQueueErrors.ReadMsgmax() is int msgmax && payloadLength > msgmax)
        {
            throw MessageQueueErrors.TooLong(Call("msgsnd"), payloadLength, msgmax);
        }
    }
}
