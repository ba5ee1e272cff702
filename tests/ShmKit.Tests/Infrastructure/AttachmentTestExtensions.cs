namespace ShmKit.Tests;

/// <summary>Something to do with a lease (a lambda cannot capture one, but it can take one as a parameter).</summary>
internal delegate void LeaseAction(SharedMemoryLease lease);

/// <summary>Something to do with a read-only lease.</summary>
internal delegate void ReadOnlyLeaseAction(ReadOnlySharedMemoryLease lease);

/// <summary>
/// Whole-segment copies for assertions, through the copying calls (no span outlives its lease), and one-call leases
/// for lambdas (Assert.Throws), disposed also when the call throws.
/// </summary>
internal static class AttachmentTestExtensions
{
    /// <summary>Acquires a lease, runs <paramref name="use"/> with it and disposes it.</summary>
    internal static void WithLease(this SharedMemoryAttachment attachment, LeaseAction use)
    {
        using var lease = attachment.Acquire();
        use(lease);
    }

    /// <summary>Acquires a read-only lease, runs <paramref name="use"/> with it and disposes it.</summary>
    internal static void WithLease(this ReadOnlySharedMemoryAttachment attachment, ReadOnlyLeaseAction use)
    {
        using var lease = attachment.Acquire();
        use(lease);
    }

    /// <summary>A private copy of the whole segment.</summary>
    internal static byte[] ReadAll(this SharedMemoryAttachment attachment) => attachment.ReadAt(0, checked((int)attachment.Length));

    /// <summary>A private copy of the whole segment.</summary>
    internal static byte[] ReadAll(this ReadOnlySharedMemoryAttachment attachment) => attachment.ReadAt(0, checked((int)attachment.Length));

    /// <summary>A private copy of <paramref name="length"/> bytes at <paramref name="offset"/>.</summary>
    internal static byte[] ReadAt(this SharedMemoryAttachment attachment, long offset, int length)
    {
        byte[] bytes = new byte[length];
        attachment.ReadBytes(offset, bytes);
        return bytes;
    }

    /// <summary>A private copy of <paramref name="length"/> bytes at <paramref name="offset"/>.</summary>
    internal static byte[] ReadAt(this ReadOnlySharedMemoryAttachment attachment, long offset, int length)
    {
        byte[] bytes = new byte[length];
        attachment.ReadBytes(offset, bytes);
        return bytes;
    }

    /// <summary>Sets every byte of the segment to <paramref name="value"/>.</summary>
    internal static void FillAll(this SharedMemoryAttachment attachment, byte value)
    {
        using var lease = attachment.Acquire();
        lease.Span.Fill(value);
    }
}
