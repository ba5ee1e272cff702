namespace ShmKit.Interop;

/// <summary>Native library names. glibc and musl both answer to "libc" through the runtime's probing.</summary>
internal static partial class Libraries
{
    /// <summary>The C library: glibc's libc.so.6 or musl's libc.so, resolved by the runtime.</summary>
    internal const string Libc = "libc";
}
