namespace ShmKit;

/// <summary>
/// The host's shared memory limits and current usage (shmctl IPC_INFO and SHM_INFO; the sysctls kernel.shm*).
/// </summary>
public sealed record SharedMemoryLimits
{
    /// <summary>shmmax: the largest segment, in bytes.</summary>
    public required ulong MaxSegmentSize { get; init; }

    /// <summary>shmmin: the smallest segment, in bytes (1 on Linux).</summary>
    public required ulong MinSegmentSize { get; init; }

    /// <summary>shmmni: the most segments the system may have.</summary>
    public required ulong MaxSegments { get; init; }

    /// <summary>shmseg: the most segments one process may attach (Linux does not enforce it).</summary>
    public required ulong MaxSegmentsPerProcess { get; init; }

    /// <summary>shmall: the most pages all segments together may use.</summary>
    public required ulong MaxTotalPages { get; init; }

    /// <summary>The page size in bytes, the unit of the page counts.</summary>
    public required int PageSize { get; init; }

    /// <summary>Segments that exist now.</summary>
    public required int SegmentsInUse { get; init; }

    /// <summary>Pages allocated to all segments now (shm_tot).</summary>
    public required ulong PagesInUse { get; init; }

    /// <summary>Pages resident in memory now (shm_rss).</summary>
    public required ulong PagesResident { get; init; }

    /// <summary>Pages swapped out now (shm_swp).</summary>
    public required ulong PagesSwapped { get; init; }
}
