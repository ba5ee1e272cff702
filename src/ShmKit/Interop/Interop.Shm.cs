using System.Runtime.InteropServices;

namespace ShmKit.Interop;

/// <summary>System V shared memory: shmget, shmat, shmdt, shmctl (sys/shm.h).</summary>
internal static unsafe partial class Shm
{
    // shmget flags.
    internal const int SHM_HUGETLB = 0x800;      // 04000
    internal const int SHM_NORESERVE = 0x1000;   // 010000

    // shmat flags. (SHM_SHARE_MMU is Solaris-only and has no Linux equivalent.)
    internal const int SHM_RDONLY = 0x1000;      // 010000
    internal const int SHM_RND = 0x2000;         // 020000
    internal const int SHM_REMAP = 0x4000;       // 040000

    // shmctl commands beyond IPC_*.
    internal const int SHM_LOCK = 11;
    internal const int SHM_UNLOCK = 12;
    internal const int SHM_STAT = 13;
    internal const int SHM_INFO = 14;
    internal const int SHM_STAT_ANY = 15;

    // Status bits the kernel keeps in shm_perm.mode.
    internal const uint SHM_DEST = 0x200;        // 01000: marked for removal
    internal const uint SHM_LOCKED = 0x400;      // 02000: locked in memory

    /// <summary><c>struct shmid_ds</c> on 64-bit Linux (112 bytes; same layout on x86-64 and arm64).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 112)]
    internal struct shmid_ds
    {
        [FieldOffset(0)] public Ipc.ipc_perm shm_perm;
        [FieldOffset(48)] public nuint shm_segsz;
        [FieldOffset(56)] public long shm_atime;
        [FieldOffset(64)] public long shm_dtime;
        [FieldOffset(72)] public long shm_ctime;
        [FieldOffset(80)] public int shm_cpid;
        [FieldOffset(84)] public int shm_lpid;
        [FieldOffset(88)] public ulong shm_nattch;
        [FieldOffset(96)] public ulong __glibc_reserved5;
        [FieldOffset(104)] public ulong __glibc_reserved6;
    }

    /// <summary><c>struct shminfo</c>, filled by IPC_INFO (72 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct shminfo
    {
        public ulong shmmax;
        public ulong shmmin;
        public ulong shmmni;
        public ulong shmseg;
        public ulong shmall;
        public ulong __glibc_reserved1;
        public ulong __glibc_reserved2;
        public ulong __glibc_reserved3;
        public ulong __glibc_reserved4;
    }

    /// <summary><c>struct shm_info</c>, filled by SHM_INFO (48 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct shm_info
    {
        public int used_ids;
        public ulong shm_tot;
        public ulong shm_rss;
        public ulong shm_swp;
        public ulong swap_attempts;
        public ulong swap_successes;
    }

    [LibraryImport(Libraries.Libc, EntryPoint = "shmget", SetLastError = true)]
    internal static partial int shmget(int key, nuint size, int shmflg);

    /// <summary>Returns the attach address, or <c>(void*)-1</c> on failure.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "shmat", SetLastError = true)]
    internal static partial nint shmat(int shmid, nint shmaddr, int shmflg);

    [LibraryImport(Libraries.Libc, EntryPoint = "shmdt", SetLastError = true)]
    internal static partial int shmdt(nint shmaddr);

    [LibraryImport(Libraries.Libc, EntryPoint = "shmctl", SetLastError = true)]
    internal static partial int shmctl(int shmid, int cmd, void* buf);

    /// <summary>The value shmat returns on failure.</summary>
    internal static readonly nint AttachFailed = -1;
}
