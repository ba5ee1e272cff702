namespace ShmKit;

/// <summary>
/// The signals <see cref="ProcessSignalNotifier"/> and <see cref="ProcessSignalListener"/> use as a doorbell between
/// processes: the two that POSIX leaves to applications. Their default action is to terminate the process, so a
/// process must be listening before anyone rings.
/// </summary>
public enum NotificationSignal
{
    /// <summary>SIGUSR1 (10 on x86-64 and arm64 Linux).</summary>
    User1 = 10,

    /// <summary>SIGUSR2 (12 on x86-64 and arm64 Linux).</summary>
    User2 = 12,
}
