namespace ShmKit;

/// <summary>
/// Lists every object of one kind on the host, as <c>ipcs</c> does: the kernel's *_INFO command returns the highest
/// index in use, and *_STAT_ANY reads the object at each index (ignoring read permission, as /proc/sysvipc does).
/// Kernels before 4.17 lack *_STAT_ANY; *_STAT then skips objects this user may not read.
/// </summary>
internal static class IpcEnumeration
{
    /// <summary>True when SHM_STAT_ANY, SEM_STAT_ANY and MSG_STAT_ANY exist (Linux 4.17 and later).</summary>
    internal static bool KernelHasStatAny { get; } = Environment.OSVersion.Version >= new Version(4, 17);

    /// <summary>
    /// Calls <paramref name="statAtIndex"/> for every index up to <paramref name="maxIndex"/> and collects what it
    /// returns, ordered by id. It returns null for an index that is not in use (EINVAL) or not readable (EACCES).
    /// </summary>
    /// <param name="maxIndex">The highest index in use, from *_INFO.</param>
    /// <param name="statAtIndex">(index, use *_STAT_ANY) to a snapshot, or null to skip.</param>
    internal static IReadOnlyList<T> Collect<T>(int maxIndex, Func<int, bool, T?> statAtIndex)
        where T : IpcObjectInfo
    {
        var list = new List<T>();
        for (int index = 0; index <= maxIndex; index++)
        {
            if (statAtIndex(index, KernelHasStatAny) is T info)
            {
                list.Add(info);
            }
        }

        list.Sort((a, b) => a.Id.CompareTo(b.Id));
        return list;
    }
}
