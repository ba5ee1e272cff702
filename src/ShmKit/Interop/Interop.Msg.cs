using System.Runtime.InteropServices;

namespace ShmKit.Interop;

/// <summary>System V message queues: msgget, msgsnd, msgrcv, msgctl (sys/msg.h).</summary>
internal static unsafe partial class Msg
{
    internal const int MSG_NOERROR = 0x1000;  // 010000
    internal const int MSG_EXCEPT = 0x2000;   // 020000
    internal const int MSG_COPY = 0x4000;     // 040000

    internal const int MSG_STAT = 11;
    internal const int MSG_INFO = 12;
    internal const int MSG_STAT_ANY = 13;

    /// <summary><c>struct msqid_ds</c> on 64-bit Linux (120 bytes; same on x86-64 and arm64).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 120)]
    internal struct msqid_ds
    {
        [FieldOffset(0)] public Ipc.ipc_perm msg_perm;
        [FieldOffset(48)] public long msg_stime;
        [FieldOffset(56)] public long msg_rtime;
        [FieldOffset(64)] public long msg_ctime;
        [FieldOffset(72)] public ulong __msg_cbytes;
        [FieldOffset(80)] public ulong msg_qnum;
        [FieldOffset(88)] public ulong msg_qbytes;
        [FieldOffset(96)] public int msg_lspid;
        [FieldOffset(100)] public int msg_lrpid;
    }

    /// <summary><c>struct msginfo</c>, filled by IPC_INFO and MSG_INFO (32 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct msginfo
    {
        public int msgpool;
        public int msgmap;
        public int msgmax;
        public int msgmnb;
        public int msgmni;
        public int msgssz;
        public int msgtql;
        public ushort msgseg;
    }

    [LibraryImport(Libraries.Libc, EntryPoint = "msgget", SetLastError = true)]
    internal static partial int msgget(int key, int msgflg);

    /// <summary><paramref name="msgp"/> points at <c>long mtype</c> followed by <paramref name="msgsz"/> bytes.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "msgsnd", SetLastError = true)]
    internal static partial int msgsnd(int msqid, void* msgp, nuint msgsz, int msgflg);

    [LibraryImport(Libraries.Libc, EntryPoint = "msgrcv", SetLastError = true)]
    internal static partial nint msgrcv(int msqid, void* msgp, nuint msgsz, long msgtyp, int msgflg);

    [LibraryImport(Libraries.Libc, EntryPoint = "msgctl", SetLastError = true)]
    internal static partial int msgctl(int msqid, int cmd, void* buf);

    /// <summary>
    /// nanosleep(2), used only by the message queue's timed wait: the kernel has no timed msgsnd/msgrcv, so a
    /// wait with a timeout or a cancellation token polls with IPC_NOWAIT and sleeps between tries. Thread.Sleep
    /// cannot sleep less than a millisecond; this can. An interrupted sleep (EINTR) simply ends early.
    /// </summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "nanosleep", SetLastError = true)]
    internal static partial int nanosleep(Sem.timespec* duration, Sem.timespec* remaining);
}
