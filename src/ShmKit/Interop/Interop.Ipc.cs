using System.Runtime.InteropServices;

namespace ShmKit.Interop;

/// <summary>Constants and structures shared by the three System V IPC families (sys/ipc.h).</summary>
internal static partial class Ipc
{
    internal const int IPC_PRIVATE = 0;

    // Flags for the *get calls (octal in the C headers).
    internal const int IPC_CREAT = 0x200;   // 01000
    internal const int IPC_EXCL = 0x400;    // 02000
    internal const int IPC_NOWAIT = 0x800;  // 04000

    // Commands common to shmctl, semctl and msgctl.
    internal const int IPC_RMID = 0;
    internal const int IPC_SET = 1;
    internal const int IPC_STAT = 2;
    internal const int IPC_INFO = 3;

    /// <summary>
    /// <c>struct ipc64_perm</c> as glibc passes it on 64-bit Linux. The layout is the same on x86-64 and arm64
    /// (48 bytes): x86-64 declares <c>mode</c> as an unsigned short plus two bytes of padding, arm64 as an
    /// unsigned int; both are little-endian and the kernel zeroes the padding, so a 32-bit read is right on both.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 48)]
    internal struct ipc_perm
    {
        [FieldOffset(0)] public int __key;
        [FieldOffset(4)] public uint uid;
        [FieldOffset(8)] public uint gid;
        [FieldOffset(12)] public uint cuid;
        [FieldOffset(16)] public uint cgid;
        [FieldOffset(20)] public uint mode;
        [FieldOffset(24)] public ushort __seq;
        [FieldOffset(32)] public ulong __glibc_reserved1;
        [FieldOffset(40)] public ulong __glibc_reserved2;
    }

    /// <summary>ftok(3): derives a key from an existing path's inode and device and the low 8 bits of <paramref name="proj_id"/>.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "ftok", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int ftok(string pathname, int proj_id);
}
