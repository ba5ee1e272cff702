using System.Runtime.InteropServices;

namespace ShmKit.Interop;

/// <summary>System V semaphores: semget, semop, semtimedop, semctl (sys/sem.h).</summary>
internal static unsafe partial class Sem
{
    internal const short SEM_UNDO = 0x1000;

    // semctl commands.
    internal const int GETPID = 11;
    internal const int GETVAL = 12;
    internal const int GETALL = 13;
    internal const int GETNCNT = 14;
    internal const int GETZCNT = 15;
    internal const int SETVAL = 16;
    internal const int SETALL = 17;
    internal const int SEM_STAT = 18;
    internal const int SEM_INFO = 19;
    internal const int SEM_STAT_ANY = 20;

    /// <summary><c>struct sembuf</c> (6 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct sembuf
    {
        public ushort sem_num;
        public short sem_op;
        public short sem_flg;
    }

    /// <summary>
    /// <c>struct semid_ds</c> on x86-64 (104 bytes): each time is followed by an unused word.
    /// arm64 uses the asm-generic layout instead (<see cref="semid_ds_generic64"/>).
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 104)]
    internal struct semid_ds_x64
    {
        [FieldOffset(0)] public Ipc.ipc_perm sem_perm;
        [FieldOffset(48)] public long sem_otime;
        [FieldOffset(64)] public long sem_ctime;
        [FieldOffset(80)] public ulong sem_nsems;
    }

    /// <summary><c>struct semid_ds</c> on arm64 and other asm-generic 64-bit targets (88 bytes).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 88)]
    internal struct semid_ds_generic64
    {
        [FieldOffset(0)] public Ipc.ipc_perm sem_perm;
        [FieldOffset(48)] public long sem_otime;
        [FieldOffset(56)] public long sem_ctime;
        [FieldOffset(64)] public ulong sem_nsems;
    }

    /// <summary><c>struct seminfo</c>, filled by IPC_INFO and SEM_INFO (40 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct seminfo
    {
        public int semmap;
        public int semmni;
        public int semmns;
        public int semmnu;
        public int semmsl;
        public int semopm;
        public int semume;
        public int semusz;
        public int semvmx;
        public int semaem;
    }

    /// <summary><c>struct timespec</c> on 64-bit Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct timespec
    {
        public long tv_sec;
        public long tv_nsec;
    }

    /// <summary>The largest value a semaphore may hold (SEMVMX in the kernel; fixed, not a sysctl).</summary>
    internal const int SEMVMX = 32767;

    [LibraryImport(Libraries.Libc, EntryPoint = "semget", SetLastError = true)]
    internal static partial int semget(int key, int nsems, int semflg);

    [LibraryImport(Libraries.Libc, EntryPoint = "semop", SetLastError = true)]
    internal static partial int semop(int semid, sembuf* sops, nuint nsops);

    [LibraryImport(Libraries.Libc, EntryPoint = "semtimedop", SetLastError = true)]
    internal static partial int semtimedop(int semid, sembuf* sops, nuint nsops, timespec* timeout);

    /// <summary>
    /// semctl is variadic in C; its fourth argument is <c>union semun</c> (an int, or a pointer), passed here
    /// as one pointer-sized integer. On x86-64 and arm64 Linux a variadic integer argument travels in the same
    /// register as a fixed one, and the union's int member is the low half of it (little-endian).
    /// </summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "semctl", SetLastError = true)]
    internal static partial int semctl(int semid, int semnum, int cmd, nint arg);
}
