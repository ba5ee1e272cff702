using System.Runtime.InteropServices;

namespace ShmKit.Benchmarks;

/// <summary>A 64-byte record for the access benchmarks.</summary>
[StructLayout(LayoutKind.Sequential, Size = 64)]
public struct Record64
{
    /// <summary>The first field; the rest is padding.</summary>
    public long Id;
}
