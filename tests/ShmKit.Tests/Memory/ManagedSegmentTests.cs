using System.Buffers.Binary;
using System.Globalization;
using static ShmKit.Tests.Memory.ManagedSegmentTestSupport;

namespace ShmKit.Tests.Memory;

/// <summary>ManagedSegment in one process: creation, opening, blocks, the directory, conflicts, capacity, validation.</summary>
public class ManagedSegmentTests
{
    [Fact]
    public void Create_Then_Open_Shares_Blocks_Entries_And_Participants()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        using var creator = ManagedSegment.Create(key, 64 * 1024);
        Assert.True(creator.WasCreated);
        Assert.Equal(64, creator.ParticipantCapacity);
        Assert.Equal(64, creator.DirectoryCapacity);
        Assert.Equal(1, creator.LayoutVersion);
        Assert.Equal(Environment.ProcessId, creator.CreatorProcessId);
        Assert.Equal(key, creator.LivenessTokens.Key);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, creator.Segment.Stat().Mode);

        ManagedSegmentBlock block = creator.OpenOrCreateBlock("table", 1000);
        Assert.True(block.WasCreated);
        Assert.Equal(0, block.Offset % 128);
        Assert.Equal(1000, block.Length);
        creator.Attachment.Write(block.Offset, 0x1234_5678_9ABC_DEF0L);

        using var opener = ManagedSegment.Open(key);
        Assert.False(opener.WasCreated);
        ManagedSegmentBlock again = opener.OpenOrCreateBlock("table", 1000);
        Assert.False(again.WasCreated);
        Assert.Equal(block.Offset, again.Offset);
        Assert.Equal(0x1234_5678_9ABC_DEF0L, opener.Attachment.Read<long>(again.Offset));
        Assert.Equal(block.Offset, opener.FindBlock("table")!.Value.Offset);
        Assert.Null(opener.FindBlock("missing"));

        ManagedSegmentEntry entry = Assert.Single(opener.GetEntries());
        Assert.Equal(("table", ShmStructureKind.Block, 1, block.Offset, 1000L, ShmDirectoryEntryState.Ready),
            (entry.Name, entry.Kind, entry.LayoutVersion, entry.Offset, entry.Size, entry.State));
        Assert.Equal(1024, opener.HeapUsed);

        var participants = opener.GetParticipants();
        Assert.Equal(2, participants.Count);
        Assert.All(participants, p => Assert.Equal((Environment.ProcessId, ShmParticipantLiveness.Alive, true), (p.ProcessId, p.Liveness, p.IsCurrentProcess)));
        Assert.NotEqual(participants[0].OwnerId, participants[1].OwnerId);

        opener.Dispose();
        Assert.Single(creator.GetParticipants());
        Assert.Throws<ObjectDisposedException>(() => opener.GetEntries());
    }

    [Fact]
    public void OpenOrCreate_Creates_Once_And_Then_Opens()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        using var first = ManagedSegment.OpenOrCreate(key, 32 * 1024, Small);
        using var second = ManagedSegment.OpenOrCreate(key, 16 * 1024);
        Assert.True(first.WasCreated);
        Assert.False(second.WasCreated);
        Assert.Equal(8, second.ParticipantCapacity);
        Assert.Equal(32 * 1024, second.Size);
    }

    [Fact]
    public void Private_Segment_Is_Opened_By_Id_With_Its_Private_Token_Set()
    {
        using var cleanup = new IpcCleanup();
        using var creator = ManagedSegment.CreatePrivate(16 * 1024, Small);
        cleanup.AddId('m', creator.Id);
        cleanup.AddId('s', creator.LivenessTokens.Id);
        Assert.True(creator.Key.IsPrivate);
        Assert.True(creator.LivenessTokens.Key.IsPrivate);
        using var opener = ManagedSegment.OpenById(creator.Id);
        Assert.Equal(creator.LivenessTokens.Id, opener.LivenessTokens.Id);
        Assert.Equal(2, opener.GetParticipants().Count);
    }

    [Fact]
    public void Remove_Deletes_The_Segment_And_The_Token_Set()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        using var segment = ManagedSegment.Create(key, 16 * 1024, Small);
        segment.Remove();
        Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.Open(key));
        Assert.Null(SemaphoreSet.FindId(key));
        segment.Remove(); // already gone: not an error
        segment.Dispose(); // unregisters on the mapping that is still attached
    }

    [Fact]
    public void Same_Name_With_Another_Kind_Size_Or_Version_Is_A_Name_Conflict()
    {
        using var cleanup = new IpcCleanup();
        using var segment = ManagedSegment.Create(cleanup.NewKey(), 32 * 1024, Small);
        segment.OpenOrCreateBlock("a", 256);

        var size = Assert.Throws<ShmNameConflictException>(() => segment.OpenOrCreateBlock("a", 512));
        Assert.Equal((ShmStructureKind.Block, 256L, 512L), (size.ExistingKind, size.ExistingSize, size.RequestedSize));

        var kind = Assert.Throws<ShmNameConflictException>(() => segment.FindOrCreate("a", ShmStructureKind.Mutex, 1, 256, null));
        Assert.Equal((ShmStructureKind.Block, ShmStructureKind.Mutex), (kind.ExistingKind, kind.RequestedKind));
        Assert.Contains("'a'", kind.Message, StringComparison.Ordinal);

        var version = Assert.Throws<ShmNameConflictException>(() => segment.FindOrCreate("a", ShmStructureKind.Block, 2, 256, null));
        Assert.Equal((1, 2), (version.ExistingLayoutVersion, version.RequestedLayoutVersion));

        Assert.Throws<ShmNameConflictException>(() => segment.Find("a", ShmStructureKind.Event, 1));
        Assert.Single(segment.GetEntries());
    }

    [Fact]
    public void Names_Must_Be_1_To_32_Bytes_Of_UTF8()
    {
        using var cleanup = new IpcCleanup();
        using var segment = ManagedSegment.Create(cleanup.NewKey(), 32 * 1024, Small);
        Assert.Throws<ArgumentException>(() => segment.OpenOrCreateBlock("", 8));
        Assert.Throws<ArgumentException>(() => segment.OpenOrCreateBlock(new string('x', 33), 8));
        Assert.Throws<ArgumentException>(() => segment.OpenOrCreateBlock(new string('é', 17), 8)); // 34 bytes
        Assert.True(segment.OpenOrCreateBlock(new string('é', 16), 8).WasCreated); // exactly 32 bytes
    }

    [Fact]
    public void Full_Directory_Is_A_Capacity_Exception_With_The_Numbers()
    {
        using var cleanup = new IpcCleanup();
        using var segment = ManagedSegment.Create(cleanup.NewKey(), 32 * 1024, new ManagedSegmentOptions { DirectoryCapacity = 4 });
        for (int i = 0; i < 4; i++)
        {
            segment.OpenOrCreateBlock("n" + i.ToString(CultureInfo.InvariantCulture), 8);
        }

        var e = Assert.Throws<ShmCapacityException>(() => segment.OpenOrCreateBlock("n4", 8));
        Assert.Equal((ShmCapacityResource.Directory, 4L), (e.Resource, e.Capacity));
        Assert.Contains("DirectoryCapacity", e.Message, StringComparison.Ordinal);
        Assert.Equal(segment.Key, e.Key);
        Assert.False(segment.OpenOrCreateBlock("n2", 8).WasCreated); // existing names are still found
    }

    [Fact]
    public void Full_Heap_Is_A_Capacity_Exception_And_Abandons_The_Entry()
    {
        using var cleanup = new IpcCleanup();
        long size = ManagedSegment.GetMinimumSize(Small) + 1024;
        using var segment = ManagedSegment.Create(cleanup.NewKey(), size, Small);
        Assert.Equal(1024, segment.HeapCapacity);
        segment.OpenOrCreateBlock("big", 900);

        var e = Assert.Throws<ShmCapacityException>(() => segment.OpenOrCreateBlock("more", 200));
        Assert.Equal((ShmCapacityResource.Heap, 1024L, 1024L, 256L), (e.Resource, e.Capacity, e.InUse, e.Requested));
        Assert.Contains(segment.GetEntries(), x => x.State == ShmDirectoryEntryState.Abandoned);

        // The abandoned entry is reused by the next name that probes it; the heap stays as it was.
        Assert.Throws<ShmCapacityException>(() => segment.OpenOrCreateBlock("more", 200));
        Assert.Equal(1024, segment.HeapUsed);
        Assert.Throws<ShmCapacityException>(() => segment.OpenOrCreateBlock("huge", 10_000));
    }

    [Fact]
    public void Full_Participant_Table_Is_A_Capacity_Exception_Naming_The_Live_Pids()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        using var first = ManagedSegment.Create(key, 16 * 1024, new ManagedSegmentOptions { ParticipantCapacity = 2, DirectoryCapacity = 4 });
        using var second = ManagedSegment.Open(key);
        var e = Assert.Throws<ShmCapacityException>(() => ManagedSegment.Open(key));
        Assert.Equal((ShmCapacityResource.ParticipantTable, 2L), (e.Resource, e.Capacity));
        Assert.Contains(Environment.ProcessId.ToString(CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);

        second.Dispose();
        using var third = ManagedSegment.Open(key); // the freed slot is reused
        Assert.Equal(1, third.Participant.Slot);
        Assert.Equal(2u, third.Participant.Generation);
    }

    [Fact]
    public void Size_Below_The_Tables_Is_Refused_Before_Anything_Is_Created()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        long minimum = ManagedSegment.GetMinimumSize();
        Assert.Equal(128 + (64 * 64) + (64 * 64), minimum);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ManagedSegment.Create(key, minimum - 1));
        Assert.Contains(minimum.ToString(CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
        Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.Open(key));
        Assert.Throws<ArgumentOutOfRangeException>(() => ManagedSegment.Create(key, 1 << 20, new ManagedSegmentOptions { ParticipantCapacity = 4096 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => ManagedSegment.Create(key, 1 << 20, new ManagedSegmentOptions { DirectoryCapacity = 0 }));
    }

    [Fact]
    public void Create_On_An_Existing_Key_Fails_And_Leaves_It_Alone()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        using var segment = ManagedSegment.Create(key, 16 * 1024, Small);
        Assert.Throws<IpcObjectExistsException>(() => ManagedSegment.Create(key, 16 * 1024, Small));
        using var opener = ManagedSegment.Open(key);
    }

    [Fact]
    public void A_Left_Over_Token_Set_Is_Reported_And_The_New_Segment_Removed()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        var stale = SemaphoreSet.CreateNew(key, [0]);
        var e = Assert.Throws<IpcObjectExistsException>(() => ManagedSegment.Create(key, 16 * 1024, Small));
        Assert.Contains("shmkit sem rm", e.Message, StringComparison.Ordinal);
        Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.Open(key));
        Assert.Equal(stale.Id, SemaphoreSet.FindId(key));
    }

    [Fact]
    public void Wrong_Magic_Version_Kind_Size_And_Checksum_Are_Layout_Exceptions_Naming_The_Field()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        var segment = ManagedSegment.Create(key, 16 * 1024, Small);
        segment.Dispose();
        using var raw = SharedMemorySegment.Open(key).Attach();
        byte[] good = raw.Copy(0, 64);

        ShmLayoutException Case(Action<SharedMemoryAttachment> corrupt, bool fixChecksum)
        {
            raw.WriteBytes(0, good);
            corrupt(raw);
            if (fixChecksum)
            {
                FixChecksum(raw);
            }

            return Assert.Throws<ShmLayoutException>(() => ManagedSegment.Open(key, TimeSpan.Zero));
        }

        var magic = Case(r => r.Write(0, 0x12345678u), false);
        Assert.Equal(("magic", "0x12345678", 0L), (magic.Field, magic.Found, magic.Offset));
        Assert.Contains("not a ShmKit structure", magic.Message, StringComparison.Ordinal);
        Assert.Equal(key, magic.Key);

        var version = Case(r => r.Write<ushort>(4, 2), false);
        Assert.Equal(("layoutVersion", "1", "2"), (version.Field, version.Expected, version.Found));
        Assert.Contains("layout version 2", version.Message, StringComparison.Ordinal);

        var kind = Case(r => r.Write<ushort>(6, (ushort)ShmStructureKind.Mutex), true);
        Assert.Equal(("kind", "ManagedSegment", "Mutex"), (kind.Field, kind.Expected, kind.Found));

        Assert.Equal("totalSize", Case(r => r.Write(16, 1L << 40), true).Field);
        Assert.Equal("totalSize", Case(r => r.Write(16, 63L), true).Field);
        Assert.Equal("headerChecksum", Case(r => r.Write(48, 0x0000_0009_0000_0008L), false).Field);
        Assert.Equal("directory capacity (kindParameter bits 32..63)", Case(r => r.Write(48, 0x0001_0000_0000_0008L), true).Field);
        Assert.Equal("headerSize", Case(r => r.Write(12, 128), false).Field);
        Assert.Equal("state", Case(r => r.Write(8, 7), false).Field);

        raw.WriteBytes(0, good);
        using var fine = ManagedSegment.Open(key, TimeSpan.Zero);
    }

    [Fact]
    public void A_Segment_That_Is_Not_Managed_Is_Rejected_Without_Waiting_Or_Touching_It()
    {
        using var cleanup = new IpcCleanup();
        IpcKey small = cleanup.NewKey();
        cleanup.Add(SharedMemorySegment.CreateNew(small, 32));
        Assert.Equal("size", Assert.Throws<ShmLayoutException>(() => ManagedSegment.Open(small, TimeSpan.Zero)).Field);

        IpcKey zero = cleanup.NewKey();
        var plain = cleanup.Add(SharedMemorySegment.CreateNew(zero, 4096));
        var e = Assert.Throws<ShmStructureNotReadyException>(() => ManagedSegment.Open(zero, TimeSpan.Zero));
        Assert.Contains("all zero", e.Message, StringComparison.Ordinal);
        Assert.Equal(zero, e.Key);

        using var raw = plain.Attach();
        using (var lease = raw.Acquire())
        {
            lease.GetSpan(0, 4096).Fill(0x41);
        }

        Assert.Equal("state", Assert.Throws<ShmLayoutException>(() => ManagedSegment.OpenOrCreate(zero, 4096, new ManagedSegmentOptions { ParticipantCapacity = 2, DirectoryCapacity = 2 })).Field);
        Assert.All(raw.Copy(0, 4096), b => Assert.Equal(0x41, b));
    }

    [Fact]
    public void Open_Waiting_For_An_All_Zero_Segment_Is_Cancellable()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        cleanup.Add(SharedMemorySegment.CreateNew(key, 4096));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));
        Assert.ThrowsAny<OperationCanceledException>(() => ManagedSegment.Open(key, Timeout.InfiniteTimeSpan, cts.Token));
    }

    [Fact]
    public void OpenOrCreate_Initializes_An_All_Zero_Segment_Someone_Else_Created()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        cleanup.Add(SharedMemorySegment.CreateNew(key, 16 * 1024));
        using var segment = ManagedSegment.OpenOrCreate(key, 16 * 1024, Small);
        Assert.True(segment.WasCreated);
    }

    [Fact]
    public void Structures_Constructed_In_The_Heap_Carry_Their_Own_Published_Header()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        using var segment = ManagedSegment.Create(key, 16 * 1024, Small);
        (long offset, bool created) = FindOrCreateStructure(segment, "s1");
        Assert.True(created);
        using var other = ManagedSegment.Open(key);
        Assert.Equal((offset, false), FindOrCreateStructure(other, "s1"));
        Assert.Equal(ShmStructureKind.Event, Assert.Single(other.GetEntries()).Kind);

        using var raw = segment.Segment.Attach();
        Assert.Equal(StructureHeader.Magic, raw.Read<uint>(offset));
        Assert.Equal(StructureHeader.Ready, raw.Read<int>(offset + StructureHeader.StateOffset));
        Assert.Equal(Environment.ProcessId, raw.Read<int>(offset + StructureHeader.CreatorPidOffset));
        Assert.Equal(BinaryPrimitives.ReadUInt32LittleEndian(raw.Copy(offset + 56, 4)), StructureHeader.ComputeChecksum(raw.Copy(offset, 64)));
    }
}
