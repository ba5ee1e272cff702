namespace ShmKit;

/// <summary>
/// An offset passed to <see cref="SharedMemoryLease.GetAlignedRef{T}"/> (or
/// <see cref="ReadOnlySharedMemoryLease.GetAlignedRef{T}"/>) does not give a naturally aligned address for the type.
/// <see cref="System.Threading.Volatile"/> and <see cref="System.Threading.Interlocked"/> need natural alignment:
/// a misaligned interlocked operation is a split lock on x64 (slow for every core, and refused by kernels that
/// enforce split-lock detection) and faults (SIGBUS) on arm64. Choose an offset that is a multiple of
/// <see cref="RequiredAlignment"/>, or use <c>GetRef</c> for plain, non-atomic access at any alignment.
/// </summary>
public sealed class SharedMemoryAlignmentException : ArgumentException
{
    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="paramName">The parameter that held the offset.</param>
    /// <param name="offset">The offending offset.</param>
    /// <param name="requiredAlignment">The alignment the type needs, in bytes.</param>
    public SharedMemoryAlignmentException(string message, string? paramName, long offset, int requiredAlignment)
        : base(message, paramName)
    {
        Offset = offset;
        RequiredAlignment = requiredAlignment;
    }

    /// <summary>The offset that was refused.</summary>
    public long Offset { get; }

    /// <summary>The alignment in bytes the type needs: its size for 1, 2, 4 and 8 bytes, otherwise the largest power of two up to 8 that divides its size.</summary>
    public int RequiredAlignment { get; }
}
