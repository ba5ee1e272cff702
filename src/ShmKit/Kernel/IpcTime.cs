namespace ShmKit;

/// <summary>Converts the kernel's time_t fields (seconds since the epoch, 0 for never).</summary>
internal static class IpcTime
{
    internal static DateTimeOffset? FromUnixSeconds(long seconds) =>
        seconds == 0 ? null : DateTimeOffset.FromUnixTimeSeconds(seconds);

    /// <summary>Only the permission bits (0777); the kernel keeps status flags above them.</summary>
    internal static UnixFileMode ToPermissions(uint mode) => (UnixFileMode)(mode & 0x1FF);

    internal static int FromPermissions(UnixFileMode mode, string parameterName)
    {
        int bits = (int)mode;
        if ((bits & ~0x1FF) != 0)
        {
            throw new ArgumentOutOfRangeException(parameterName, mode,
                "Only the permission bits 0777 apply to IPC objects (no setuid, setgid or sticky bits).");
        }

        return bits;
    }
}
