using System.Buffers.Binary;

namespace ShmKit.Tests.Memory;

/// <summary>Helpers for writing into a managed segment's raw bytes from a test (through a separate attachment).</summary>
internal static class ManagedSegmentTestSupport
{
    internal static readonly ManagedSegmentOptions Small = new() { ParticipantCapacity = 8, DirectoryCapacity = 8 };

    /// <summary>Rewrites the header's checksum so that a deliberately changed field is the only thing wrong.</summary>
    internal static void FixChecksum(SharedMemoryAttachment raw, long offset = 0)
    {
        using var lease = raw.Acquire();
        Span<byte> header = lease.GetSpan(offset, StructureHeader.Size);
        BinaryPrimitives.WriteUInt32LittleEndian(header[StructureHeader.ChecksumOffset..], StructureHeader.ComputeChecksum(header));
    }

    /// <summary>A copy of <paramref name="length"/> bytes at <paramref name="offset"/> (a copying call: no lease needed).</summary>
    internal static byte[] Copy(this SharedMemoryAttachment raw, long offset, int length)
    {
        byte[] bytes = new byte[length];
        raw.ReadBytes(offset, bytes);
        return bytes;
    }

    /// <summary>Writes an Active participant record into slot <paramref name="slot"/>.</summary>
    internal static void WriteParticipant(SharedMemoryAttachment raw, int slot, int pid, long startTime, long pidNamespace, uint generation = 1)
    {
        long offset = ManagedSegmentLayout.ParticipantTableStart + ((long)slot * ParticipantTable.SlotSize);
        raw.Write(offset + ParticipantTable.PidOffset, pid);
        raw.Write(offset + ParticipantTable.TokenIndexOffset, slot);
        raw.Write(offset + ParticipantTable.StartTimeOffset, startTime);
        raw.Write(offset + ParticipantTable.NamespaceOffset, pidNamespace);
        raw.Write(offset + ParticipantTable.RegisteredAtOffset, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        using var lease = raw.Acquire();
        Volatile.Write(ref lease.GetAlignedRef<long>(offset), ParticipantTable.Active | ((long)generation << 32));
    }

    /// <summary>
    /// A new managed segment (<see cref="Small"/>, 16 KiB) in which a child process (ShmKit.TestChild's
    /// managed-construct-stall) has claimed the directory entry for <paramref name="name"/> and stopped inside its
    /// initializer: alive, it holds the claim; SIGKILLed, it leaves a dead claimer.
    /// </summary>
    internal static StalledConstruction CreateWithStalledConstructor(IpcCleanup cleanup, string name)
    {
        IpcKey key = cleanup.NewKey();
        var segment = ManagedSegment.Create(key, 16 * 1024, Small);
        ChildProcess? constructor = null;
        try
        {
            constructor = ChildProcess.StartChild("managed-construct-stall", key.ToString(), name);
            constructor.WaitForLine("CONSTRUCTING");
            return new StalledConstruction(segment, constructor);
        }
        catch
        {
            constructor?.Dispose();
            segment.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Finds or creates an Event-kind test structure whose initializer claims and publishes a StructureHeader, then
    /// validates that header (the same as ShmKit.TestChild's managed-race verb does for names starting with "s").
    /// </summary>
    internal static (long Offset, bool Created) FindOrCreateStructure(ManagedSegment segment, string name, TimeSpan? timeout = null)
    {
        StructureLocation location = segment.FindOrCreate(name, ShmStructureKind.Event, 1, 128,
            static (in RegionLease lease, long offset, long length) =>
            {
                Assert.True(StructureHeader.TryClaim(lease, offset, ShmStructureKind.Event, out HeaderClaim claim));
                lease.Ref<long>(offset + StructureHeader.Size) = 0x5EED;
                StructureHeader.Publish(lease, claim, length, 0, 0, default, "test structure");
            },
            timeout);
        using RegionLease lease = segment.Region.Acquire();
        HeaderAcquisition header = StructureHeader.Acquire(lease, location.Offset, location.Length, ShmStructureKind.Event, HeaderClaimPolicy.OpenOnly,
            MonotonicClock.DeadlineAfter(TimeSpan.Zero), TimeSpan.Zero, segment.Site, "test structure", CancellationToken.None);
        Assert.Null(header.Claim);
        Assert.Equal(location.Length, header.Header.TotalSize);
        Assert.Equal(0x5EED, lease.Ref<long>(location.Offset + StructureHeader.Size));
        return (location.Offset, location.WasCreated);
    }
}

/// <summary>A managed segment and the child stalled inside the construction of one of its entries; Dispose kills the child and disposes the segment.</summary>
internal sealed class StalledConstruction(ManagedSegment segment, ChildProcess constructor) : IDisposable
{
    internal ManagedSegment Segment { get; } = segment;

    internal ChildProcess Constructor { get; } = constructor;

    public void Dispose()
    {
        Constructor.Dispose();
        Segment.Dispose();
    }
}
