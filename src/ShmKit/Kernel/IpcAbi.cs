using System.Runtime.InteropServices;

namespace ShmKit;

/// <summary>
/// The architectures whose C struct layouts ShmKit has checked against the headers: x64 (gcc, in the tests) and arm64
/// (a cross compiler, <c>aarch64-linux-gnu-gcc -fsyntax-only</c> with <c>_Static_assert</c>s, in the tests). On any
/// other architecture the first call that would reach the kernel throws <see cref="PlatformNotSupportedException"/>
/// instead of reading structs with a layout nobody verified.
/// </summary>
internal static class IpcAbi
{
    /// <summary>The architecture of this process.</summary>
    internal static Architecture Architecture { get; } = RuntimeInformation.ProcessArchitecture;

    /// <summary>True on x64, whose semid_ds keeps an unused word after each time; arm64 uses the asm-generic layout.</summary>
    internal static bool IsX64 => Architecture == Architecture.X64;

    /// <summary>Throws unless this process runs on a verified architecture. Cheap: one comparison.</summary>
    internal static void EnsureVerified() => EnsureVerified(Architecture);

    /// <summary>Throws unless <paramref name="architecture"/> is one whose layouts are verified.</summary>
    /// <param name="architecture">The architecture to check.</param>
    internal static void EnsureVerified(Architecture architecture)
    {
        if (architecture is not (Architecture.X64 or Architecture.Arm64))
        {
            throw IpcErrors.UnverifiedArchitecture(architecture);
        }
    }
}
