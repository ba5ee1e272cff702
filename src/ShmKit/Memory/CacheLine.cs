namespace ShmKit;

/// <summary>
/// Cache-line sizes for laying out structures in shared memory, so that fields written by different processes do
/// not share a line (false sharing: every write by one side evicts the line from the other side's cache).
/// </summary>
/// <remarks>
/// Put each field that one side writes and the other reads (a producer's head, a consumer's tail, a lock word) at its
/// own offset that is a multiple of <see cref="FalseSharingDistance"/>, with nothing else another process writes
/// within that distance. The values are constants, not measured at run time: a layout in shared memory must be the
/// same in every process that maps it, whatever CPU each runs on.
/// </remarks>
public static class CacheLine
{
    /// <summary>
    /// The cache-line size of x86-64 and of the common arm64 server cores (Neoverse), in bytes: the unit in which
    /// caches move memory and in which one write invalidates another core's copy.
    /// </summary>
    public const int Size = 64;

    /// <summary>
    /// The distance in bytes that keeps two fields out of each other's way: two lines. Intel's adjacent-line (spatial)
    /// prefetcher fetches lines in 128-byte pairs, so fields only 64 bytes apart still bounce between cores together,
    /// and some arm64 cores (Apple M-series) have 128-byte lines. Agrona's ring buffer and the Disruptor's IPC ring
    /// pad by 2 x 64 bytes for the same reason.
    /// </summary>
    public const int FalseSharingDistance = 128;
}
