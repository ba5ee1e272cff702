using System.Globalization;
using ShmKit.Interop;

namespace ShmKit;

/// <summary>The errors of the signal doorbell (kill(2)).</summary>
internal static class SignalErrors
{
    /// <summary>kill(2) failed while sending a notification signal.</summary>
    internal static Exception ForKill(int errno, int processId, int signal) => errno switch
    {
        Errno.ESRCH => new ArgumentException(string.Create(CultureInfo.InvariantCulture,
            $"kill({processId}, {signal}) failed: no process has id {processId} (ESRCH). It has exited, or the id is wrong."), nameof(processId)),
        Errno.EPERM => new IpcAccessDeniedException(string.Create(CultureInfo.InvariantCulture,
            $"kill({processId}, {signal}) failed: permission denied (EPERM). Only processes of the same user (or root) may signal process {processId}.")),
        _ => new IpcException(string.Create(CultureInfo.InvariantCulture,
            $"kill({processId}, {signal}) failed: {Errno.Describe(errno)}.")),
    };
}
