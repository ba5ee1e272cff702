using System.Globalization;
using ShmKit.Interop;

namespace ShmKit;

/// <summary>The errors particular to shared memory segments (shmget, shmat, shmctl): each one says which rule was broken.</summary>
internal static class SharedMemoryErrors
{
    /// <summary>shmget failed; EINVAL and ENOMEM have several causes, so find out which one applies.</summary>
    internal static Exception ForShmget(int errno, in IpcCall call, long size, int flags)
    {
        bool hugePages = (flags & Shm.SHM_HUGETLB) != 0;
        string? detail = errno switch
        {
            Errno.EINVAL => ExplainInvalidSize(call, size),
            Errno.ENOMEM when hugePages => ExplainNoHugePages(size),
            Errno.ENOMEM => ExplainOutOfMemory(size),
            Errno.EPERM when hugePages =>
                "huge pages need CAP_IPC_LOCK or membership of the group in /proc/sys/vm/hugetlb_shm_group. Run with that capability or group, or create the segment without SharedMemoryCreateOptions.HugePages.",
            _ => null,
        };
        return IpcErrors.Create(errno, call, detail);
    }

    /// <summary>shmat failed with something other than a bad address hint or a removed segment.</summary>
    internal static Exception ForAttach(int errno, in IpcCall call, long size) => IpcErrors.Create(errno, call, errno == Errno.ENOMEM
        ? string.Create(CultureInfo.InvariantCulture, $"this process has no room in its address space to map {size} bytes (ENOMEM). Attach a smaller segment, or detach others first.")
        : null);

    /// <summary>
    /// shmat refused the address hint (EINVAL for a segment that exists). Either the hint is not aligned to SHMLBA and
    /// SHM_RND was not asked for, or the range it names (rounded down, with SHM_RND) is taken by another mapping or
    /// lies outside the address space: only the first is cured by <c>roundAddressHint</c>, so the two are told apart.
    /// </summary>
    internal static ArgumentException BadAddressHint(in IpcCall call, nint addressHint, bool roundAddressHint, long size)
    {
        // SHMLBA is the page size on x86-64 and, for 64-bit processes, on arm64.
        long shmlba = Environment.SystemPageSize;
        string prefix = $"{call.Operation} failed for the {call.Describe()}: ";
        if (!roundAddressHint && addressHint % shmlba != 0)
        {
            return new ArgumentException(
                prefix + string.Create(CultureInfo.InvariantCulture, $"the address hint 0x{addressHint:x} is not aligned to SHMLBA ({shmlba} bytes). Pass an aligned address, pass roundAddressHint: true to round it down (SHM_RND), or pass 0 to let the kernel choose."),
                nameof(addressHint));
        }

        nint start = addressHint - (nint)(addressHint % shmlba);
        string from = start == addressHint
            ? string.Create(CultureInfo.InvariantCulture, $"the address hint 0x{addressHint:x}")
            : string.Create(CultureInfo.InvariantCulture, $"the address hint 0x{addressHint:x}, rounded down to 0x{start:x} (SHM_RND)");
        return new ArgumentException(
            prefix + string.Create(CultureInfo.InvariantCulture, $"the {size} bytes at {from} overlap a mapping this process already has, or lie outside its address space. Pick a free address, or pass 0 to let the kernel choose."),
            nameof(addressHint));
    }

    /// <summary>SHM_LOCK failed: a capability or RLIMIT_MEMLOCK question.</summary>
    internal static Exception ForLockInMemory(int errno, in IpcCall call, long size) => IpcErrors.ForControl(errno, call, existed: true, errno switch
    {
        Errno.EPERM => "locking needs CAP_IPC_LOCK, or being the segment's owner or creator with a nonzero RLIMIT_MEMLOCK (`ulimit -l`).",
        Errno.ENOMEM => string.Create(CultureInfo.InvariantCulture,
            $"locking its {size} bytes would exceed this user's RLIMIT_MEMLOCK (`ulimit -l`, in KiB). Raise the limit, or lock as a process with CAP_IPC_LOCK."),
        _ => null,
    });

    /// <summary>ENOSPC or ENOMEM from shmget: which limit, with the numbers, or null if they cannot be read.</summary>
    internal static unsafe string? DescribeLimit(int errno)
    {
        Shm.shminfo info;
        Shm.shm_info usage;
        if (Shm.shmctl(0, Ipc.IPC_INFO, &info) < 0 || Shm.shmctl(0, Shm.SHM_INFO, &usage) < 0)
        {
            return null;
        }

        return errno == Errno.ENOSPC
            ? string.Create(CultureInfo.InvariantCulture,
                $"the system is out of shared memory: {usage.used_ids} of shmmni={info.shmmni} segment ids in use, {usage.shm_tot} of shmall={info.shmall} pages allocated. Remove unused segments (`ipcs -m` lists them, `ipcrm -m id` removes one) or raise kernel.shmmni / kernel.shmall.")
            : string.Create(CultureInfo.InvariantCulture,
                $"not enough memory for the segment (ENOMEM): {usage.shm_tot} of shmall={info.shmall} pages allocated. Ask for less, free memory, or raise kernel.shmall.");
    }

    /// <summary>shmget's EINVAL has two causes: an existing segment smaller than asked, or a size outside shmmin..shmmax.</summary>
    private static unsafe string ExplainInvalidSize(in IpcCall call, long size)
    {
        if (call.Key is { IsPrivate: false } key)
        {
            // SHM_STAT_ANY is not needed here: a segment this user may not read fails shmget with EACCES, not EINVAL.
            int existing = Shm.shmget(key.Value, 0, 0);
            Shm.shmid_ds ds;
            if (existing >= 0 && Shm.shmctl(existing, Ipc.IPC_STAT, &ds) >= 0 && (long)ds.shm_segsz < size)
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"the segment exists with {(long)ds.shm_segsz} bytes, less than the {size} bytes asked. Open it with a size of at most {(long)ds.shm_segsz} bytes, or, if nobody uses it, remove it (`{call.RemoveCommand()}`) and create it again.");
            }
        }

        Shm.shminfo info;
        string limits = Shm.shmctl(0, Ipc.IPC_INFO, &info) >= 0
            ? string.Create(CultureInfo.InvariantCulture, $"shmmin={info.shmmin}, shmmax={info.shmmax}")
            : "see `ipcs -l -m`";
        return string.Create(CultureInfo.InvariantCulture,
            $"the size {size} bytes is outside the system's limits ({limits}). Ask for a size within them, or raise kernel.shmmax.");
    }

    /// <summary>shmget's ENOMEM with SHM_HUGETLB: almost always no free huge pages in the pool.</summary>
    private static string ExplainNoHugePages(long size)
    {
        string pool = "the huge page pool";
        try
        {
            string? total = null, free = null, pageSize = null;
            foreach (string line in File.ReadLines("/proc/meminfo"))
            {
                string value = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                if (line.StartsWith("HugePages_Total:", StringComparison.Ordinal))
                {
                    total = value;
                }
                else if (line.StartsWith("HugePages_Free:", StringComparison.Ordinal))
                {
                    free = value;
                }
                else if (line.StartsWith("Hugepagesize:", StringComparison.Ordinal))
                {
                    pageSize = value;
                }
            }

            if (total is not null && free is not null)
            {
                pool = $"the huge page pool ({free} of vm.nr_hugepages={total} pages of {pageSize} free)";
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"{pool} cannot hold {size} bytes (ENOMEM). Reserve huge pages first (for example `sysctl vm.nr_hugepages=64`, see /proc/sys/vm/nr_hugepages and /proc/meminfo), or create the segment without SharedMemoryCreateOptions.HugePages.");
    }

    /// <summary>shmget's ENOMEM without huge pages: the kernel would not commit memory and swap for the size.</summary>
    private static unsafe string ExplainOutOfMemory(long size)
    {
        Shm.shminfo info;
        Shm.shm_info usage;
        string limits = Shm.shmctl(0, Ipc.IPC_INFO, &info) >= 0 && Shm.shmctl(0, Shm.SHM_INFO, &usage) >= 0
            ? string.Create(CultureInfo.InvariantCulture, $"{usage.shm_tot} of shmall={info.shmall} pages are allocated")
            : "see `ipcs -l -m`";
        return string.Create(CultureInfo.InvariantCulture,
            $"the kernel cannot reserve memory and swap for {size} bytes ({limits}; the overcommit policy is /proc/sys/vm/overcommit_memory). Ask for less, free memory, raise kernel.shmall, or pass SharedMemoryCreateOptions.NoReserve to skip the reservation.");
    }
}
