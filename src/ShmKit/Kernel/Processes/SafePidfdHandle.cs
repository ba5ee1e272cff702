using System.Runtime.InteropServices;
using ShmKit.Interop;

namespace ShmKit;

/// <summary>What <see cref="SafePidfdHandle.TryOpen"/> found.</summary>
internal enum PidfdOpenStatus
{
    /// <summary>The descriptor refers to the process recorded; it becomes readable (EPOLLIN) when the process exits.</summary>
    Opened,

    /// <summary>The recorded process is gone (ESRCH, pid reused, or a zombie).</summary>
    Dead,

    /// <summary>pidfd_open is missing (ENOSYS, before Linux 5.3) or denied (EPERM, seccomp): remembered for the process.</summary>
    NotSupported,

    /// <summary>Another failure (descriptor limit, memory): the caller falls back to polling.</summary>
    Failed,
}

/// <summary>
/// A pidfd (pidfd_open(2), Linux 5.3): a descriptor for one process that can never refer to another, and that
/// polls readable when the process exits — the liveness monitor's death notification (59–86 µs after SIGKILL here).
/// Close-on-exec; closed with close(2) on release.
/// </summary>
internal sealed class SafePidfdHandle : SafeHandle
{
    // Written once when pidfd_open reports ENOSYS/EPERM (any thread, same value); read before each open.
    private static volatile bool s_unsupported;

    private SafePidfdHandle(int fd)
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
        SetHandle(fd);
    }

    /// <inheritdoc/>
    public override bool IsInvalid => handle < 0;

    /// <summary>True until pidfd_open has failed with ENOSYS or EPERM (then the monitor polls instead).</summary>
    internal static bool IsSupported => !s_unsupported && Syscalls.IsSupportedArchitecture;

    /// <summary>The descriptor number (for epoll_ctl; valid while the handle is open).</summary>
    internal int Descriptor => (int)handle;

    /// <summary>
    /// Opens a pidfd for <paramref name="identity"/> (a process of this pid namespace) and checks afterwards that the
    /// pid still has the recorded start time, so the descriptor cannot refer to a process that reused the pid.
    /// </summary>
    internal static PidfdOpenStatus TryOpen(in ProcessIdentity identity, out SafePidfdHandle? handle)
    {
        handle = null;
        if (!IsSupported)
        {
            return PidfdOpenStatus.NotSupported;
        }

        if (!identity.IsInCurrentPidNamespace || identity.ProcessId <= 0)
        {
            throw new ArgumentException($"pidfd_open needs a process of this pid namespace; {identity} is not one.", nameof(identity));
        }

        int fd = PidfdCalls.pidfd_open(identity.ProcessId, 0);
        if (fd < 0)
        {
            switch (Errno.Last)
            {
                case Errno.ESRCH:
                case Errno.EINVAL: // the pid is now a thread of some process, not a process: the recorded one is gone
                    return PidfdOpenStatus.Dead;
                case Errno.ENOSYS:
                case Errno.EPERM:
                    s_unsupported = true;
                    return PidfdOpenStatus.NotSupported;
                default:
                    return PidfdOpenStatus.Failed;
            }
        }

        var opened = new SafePidfdHandle(fd);
        switch (ProcessLiveness.Check(identity))
        {
            case LivenessState.Alive:
                handle = opened;
                return PidfdOpenStatus.Opened;
            case LivenessState.Dead:
                opened.Dispose();
                return PidfdOpenStatus.Dead;
            default:
                // /proc cannot confirm the start time (hidepid): the descriptor may be a reused pid's. Poll instead.
                opened.Dispose();
                return PidfdOpenStatus.Failed;
        }
    }

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => FdCalls.close((int)handle) == 0;
}
