namespace ShmKit;

/// <summary>Linux-specific flags for creating a segment (shmget).</summary>
[Flags]
public enum SharedMemoryCreateOptions
{
    /// <summary>Ordinary 4 KiB pages, with swap space reserved.</summary>
    None = 0,

    /// <summary>
    /// SHM_HUGETLB: back the segment with huge pages (the default huge page size, usually 2 MiB). Needs huge
    /// pages reserved in /proc/sys/vm/nr_hugepages and a size that is a multiple of the huge page size;
    /// otherwise shmget fails with ENOMEM (<see cref="IpcLimitExceededException"/>, whose message shows the pool).
    /// Combined with <see cref="NoReserve"/> the kernel reserves no huge pages, so creation succeeds even with an
    /// empty pool and the first touch of a page that cannot be backed kills the process with SIGBUS.
    /// </summary>
    HugePages = 0x800,

    /// <summary>SHM_NORESERVE: do not reserve swap space; a write may then fail with SIGSEGV under memory pressure.</summary>
    NoReserve = 0x1000,
}
