using ShmKit.Interop;

namespace ShmKit;

/// <summary>
/// Rings another process's doorbell: sends SIGUSR1 or SIGUSR2 with kill(2). The receiver must have a
/// <see cref="ProcessSignalListener"/> for that signal, or the signal's default action terminates it.
/// </summary>
/// <remarks>
/// <para>A signal carries no data and does not queue: several sent before the receiver handles the first arrive as one.
/// Use it to say "look at the shared memory now", and keep the facts (sequence numbers, counts) in shared memory,
/// where the receiver re-reads them after every wake-up.</para>
/// <para>Delivery needs permission: the sender must be root or have the receiver's real or effective user id.
/// Process ids are recycled; publish the listener's id (for example in shared memory) only while it listens, and
/// clear it before the listener is disposed.</para>
/// </remarks>
public static class ProcessSignalNotifier
{
    /// <summary>Sends <paramref name="signal"/> to process <paramref name="processId"/>.</summary>
    /// <param name="processId">A positive process id (0 and negative values would signal whole process groups; they are refused).</param>
    /// <param name="signal">SIGUSR1 (default) or SIGUSR2.</param>
    /// <exception cref="ArgumentException">No process has this id (ESRCH).</exception>
    /// <exception cref="IpcAccessDeniedException">The process belongs to another user (EPERM).</exception>
    public static void Send(int processId, NotificationSignal signal = NotificationSignal.User1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(processId);
        CheckSignal(signal);
        if (ProcessCalls.kill(processId, (int)signal) < 0)
        {
            throw SignalErrors.ForKill(Errno.Last, processId, (int)signal);
        }
    }

    internal static void CheckSignal(NotificationSignal signal)
    {
        if (signal is not (NotificationSignal.User1 or NotificationSignal.User2))
        {
            throw new ArgumentOutOfRangeException(nameof(signal), signal, "Only SIGUSR1 (User1) and SIGUSR2 (User2) are notification signals.");
        }
    }
}
