using System.Globalization;
using ShmKit.Interop;
using ShmKit.Tests.Segments;

namespace ShmKit.Tests.Interop;

/// <summary>
/// The system call numbers ShmKit passes to syscall(2), against sys/syscall.h (x86-64 here; the arm64 numbers come
/// from asm-generic/unistd.h and are checked by reading only), and the epoll_event layouts of both architectures.
/// The structs and constants themselves are covered by <see cref="AbiTests"/>.
/// </summary>
public class FutexAbiTests
{
    [EnvironmentFact(Needs.X64 | Needs.Gcc)]
    public void Syscall_Numbers_Match_The_Headers()
    {
        using var program = NativeProgram.Compile("""
            #include <stdio.h>
            #include <sys/syscall.h>
            int main(void) {
                printf("%ld %ld %ld\n", (long)SYS_futex, (long)SYS_futex_waitv, (long)SYS_pidfd_open);
                return 0;
            }
            """, "sysnr");
        var (code, stdout, stderr) = program.Run();
        Assert.True(code == 0, stderr);
        long[] n = stdout.Trim().Split(' ').Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal([Syscalls.SYS_futex_x64, Syscalls.SYS_futex_waitv_x64, Syscalls.SYS_pidfd_open_x64], n);
        Assert.Equal(Syscalls.SYS_futex_x64, Syscalls.SYS_futex);
        Assert.Equal(Syscalls.SYS_futex_waitv_x64, Syscalls.SYS_futex_waitv);
        Assert.Equal(Syscalls.SYS_pidfd_open_x64, Syscalls.SYS_pidfd_open);
    }

    [Fact]
    public void Arm64_Numbers_Are_The_Generic_Table()
    {
        Assert.Equal(98, Syscalls.SYS_futex_arm64);
        Assert.Equal(449, Syscalls.SYS_futex_waitv_arm64);
        Assert.Equal(434, Syscalls.SYS_pidfd_open_arm64);
    }

    [Fact]
    public unsafe void Epoll_Event_Is_Packed_On_x64_Only()
    {
        Assert.Equal(12, sizeof(Epoll.epoll_event_x64));
        Assert.Equal(16, sizeof(Epoll.epoll_event_generic64));
        Assert.Equal(24, sizeof(FutexCalls.futex_waitv));
        Assert.Equal(System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64 ? 12 : 16, Epoll.EventSize);
    }
}
