using System.Globalization;

namespace ShmKit.Tests.Segments;

/// <summary>Creating and opening segments: CreateNew, Open, OpenOrCreate, OpenById, CreatePrivate, sizes, modes, options.</summary>
public class SegmentLifecycleTests
{
    private const UnixFileMode Mode0666 = (UnixFileMode)0x1B6;
    private const UnixFileMode Mode0640 = (UnixFileMode)0x1A0;

    [Fact]
    public void CreateNew_Creates_And_A_Second_CreateNew_Is_IpcObjectExistsException()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var segment = cleanup.Add(SharedMemorySegment.CreateNew(key, 4096));
        Assert.Equal(key, segment.Key);
        Assert.Equal(4096, segment.Size);
        Assert.True(segment.Id >= 0);

        var e = Assert.Throws<IpcObjectExistsException>(() => SharedMemorySegment.CreateNew(key, 4096));
        Assert.Equal("shmget", e.Operation);
        Assert.Equal(key, e.Key);
        Assert.Equal(IpcObjectKind.SharedMemory, e.Kind);
        Assert.Equal(17, e.NativeErrorCode);
        Assert.Contains("shmget", e.Message, StringComparison.Ordinal);
        Assert.Contains(key.ToString(), e.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<IpcException>(e);
        Assert.IsAssignableFrom<IOException>(e);

        // Even with another size, EEXIST wins.
        Assert.Throws<IpcObjectExistsException>(() => SharedMemorySegment.CreateNew(key, 1 << 20));
    }

    [Fact]
    public void Open_Finds_The_Existing_Segment_And_Reads_Its_Size()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var created = cleanup.Add(SharedMemorySegment.CreateNew(key, 10_000));

        var opened = SharedMemorySegment.Open(key);
        Assert.Equal(created.Id, opened.Id);
        Assert.Equal(key, opened.Key);
        Assert.Equal(10_000, opened.Size);
        Assert.Contains(key.ToString(), opened.ToString(), StringComparison.Ordinal);
        Assert.Contains(opened.Id.ToString(CultureInfo.InvariantCulture), opened.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Open_Absent_Key_Is_IpcObjectNotFoundException_Naming_The_Key()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var e = Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.Open(key));
        Assert.Equal("shmget", e.Operation);
        Assert.Equal(key, e.Key);
        Assert.Equal(2, e.NativeErrorCode);
        Assert.Contains("shmget", e.Message, StringComparison.Ordinal);
        Assert.Contains(key.ToString(), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenOrCreate_Creates_Then_Opens()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var first = cleanup.Add(SharedMemorySegment.OpenOrCreate(key, 8192));
        Assert.True(first.WasCreated);
        Assert.Equal(8192, first.Size);
        Assert.Equal(Environment.ProcessId, first.Stat().CreatorProcessId);

        var second = SharedMemorySegment.OpenOrCreate(key, 8192);
        Assert.Equal(first.Id, second.Id);
        Assert.False(second.WasCreated);
        Assert.True(SharedMemorySegment.CreatePrivate(4096) is var created && created.WasCreated);
        cleanup.Add(created);
        Assert.False(SharedMemorySegment.Open(key).WasCreated);
        Assert.False(SharedMemorySegment.OpenById(first.Id).WasCreated);

        // Asking less than the existing size opens it with its real size.
        var smaller = SharedMemorySegment.OpenOrCreate(key, 100);
        Assert.Equal(first.Id, smaller.Id);
        Assert.Equal(8192, smaller.Size);

        // The mode of an existing segment is not changed by opening it with another.
        SharedMemorySegment.OpenOrCreate(key, 8192, Mode0666);
        Assert.Equal(SharedMemorySegment.DefaultMode, first.Stat().Mode);
    }

    [Fact]
    public void OpenOrCreate_Larger_Than_Existing_Is_IpcSizeException_Saying_The_Existing_Size()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        cleanup.Add(SharedMemorySegment.CreateNew(key, 4096));

        var e = Assert.Throws<IpcSizeException>(() => SharedMemorySegment.OpenOrCreate(key, 4097));
        Assert.Equal("shmget", e.Operation);
        Assert.Equal(key, e.Key);
        Assert.Contains("4096 bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains("4097 bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains(key.ToString(), e.Message, StringComparison.Ordinal);
        Assert.Contains("shmget", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenById_Opens_Keyed_And_Private_Segments()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var keyed = cleanup.Add(SharedMemorySegment.CreateNew(key, 5000));
        var byId = SharedMemorySegment.OpenById(keyed.Id);
        Assert.Equal(keyed.Id, byId.Id);
        Assert.Equal(key, byId.Key);
        Assert.Equal(5000, byId.Size);

        var priv = cleanup.Add(SharedMemorySegment.CreatePrivate(3000));
        var privById = SharedMemorySegment.OpenById(priv.Id);
        Assert.True(privById.Key.IsPrivate);
        Assert.Equal(3000, privById.Size);

        // Both views write the same memory.
        using (var a = keyed.Attach())
        using (var b = byId.Attach())
        {
            a.Write(4000, 42L);
            Assert.Equal(42L, b.Read<long>(4000));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => SharedMemorySegment.OpenById(-1));
    }

    [Fact]
    public void OpenById_Unused_Id_Is_IpcObjectNotFoundException_Naming_The_Id()
    {
        using var cleanup = new IpcCleanup();
        var segment = SharedMemorySegment.CreatePrivate(4096);
        int id = segment.Id;
        segment.Remove();

        var e = Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.OpenById(id));
        Assert.Equal(id, e.Id);
        Assert.Contains("shmctl(IPC_STAT)", e.Message, StringComparison.Ordinal);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"id {id}"), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CreatePrivate_Always_Makes_A_New_Segment_Without_A_Key()
    {
        using var cleanup = new IpcCleanup();
        var a = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        var b = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        var c = cleanup.Add(SharedMemorySegment.CreateNew(IpcKey.Private, 4096));
        Assert.True(a.Key.IsPrivate);
        Assert.True(a.Stat().Key.IsPrivate);
        Assert.Equal(3, new[] { a.Id, b.Id, c.Id }.Distinct().Count());

        Assert.Throws<ArgumentException>(() => SharedMemorySegment.Open(IpcKey.Private));
        Assert.Throws<ArgumentException>(() => SharedMemorySegment.OpenOrCreate(IpcKey.Private, 4096));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    public void NonPositive_Size_Is_ArgumentOutOfRangeException(long size)
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        Assert.Equal("size", Assert.Throws<ArgumentOutOfRangeException>(() => SharedMemorySegment.CreateNew(key, size)).ParamName);
        Assert.Equal("size", Assert.Throws<ArgumentOutOfRangeException>(() => SharedMemorySegment.OpenOrCreate(key, size)).ParamName);
        Assert.Equal("size", Assert.Throws<ArgumentOutOfRangeException>(() => SharedMemorySegment.CreatePrivate(size)).ParamName);
        Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.Open(key));
    }

    [Fact]
    public void One_Byte_Segment_Is_Allowed_And_Bounded_At_One_Byte()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(1));
        Assert.Equal(1, segment.Size);
        using var a = segment.Attach();
        a.Write<byte>(0, 7);
        Assert.Equal(7, a.Read<byte>(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Read<short>(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Read<byte>(1));
    }

    [EnvironmentFact(Needs.OvercommitChecked)]
    public void Size_Beyond_What_The_Kernel_Can_Reserve_Is_A_Specific_IpcException()
    {
        // long.MaxValue bytes: above shmmax where shmmax is small (EINVAL), otherwise more than memory and swap can
        // back (ENOMEM under overcommit policies 0 and 2). Size above a lowered shmmax is tested in a private IPC
        // namespace (SegmentErrorTests).
        ulong shmmax = SegmentTestSupport.ReadProcULong("/proc/sys/kernel/shmmax");
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();

        var e = Assert.ThrowsAny<IpcException>(() => SharedMemorySegment.CreateNew(key, long.MaxValue));
        Assert.Equal("shmget", e.Operation);
        Assert.Contains(key.ToString(), e.Message, StringComparison.Ordinal);
        Assert.Contains(long.MaxValue.ToString(CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
        if ((ulong)long.MaxValue > shmmax)
        {
            Assert.IsType<IpcSizeException>(e);
            Assert.Contains("shmmax", e.Message, StringComparison.Ordinal);
        }
        else
        {
            Assert.IsType<IpcLimitExceededException>(e);
            Assert.Equal(12, e.NativeErrorCode);
            Assert.Contains("NoReserve", e.Message, StringComparison.Ordinal);
        }

        Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.Open(key));
    }

    [Fact]
    public void Default_Mode_Is_0600_And_A_Wider_Mode_Is_Explicit()
    {
        using var cleanup = new IpcCleanup();
        var rows = () => SegmentTestSupport.ReadProcSysvipcShm();

        var byDefault = cleanup.Add(SharedMemorySegment.CreateNew(cleanup.NewKey(), 4096));
        Assert.Equal((UnixFileMode)0x180, SharedMemorySegment.DefaultMode);
        Assert.Equal(SharedMemorySegment.DefaultMode, byDefault.Stat().Mode);
        Assert.Equal(0x180, rows()[byDefault.Id].Perms);

        var wide = cleanup.Add(SharedMemorySegment.CreateNew(cleanup.NewKey(), 4096, Mode0666));
        Assert.Equal(Mode0666, wide.Stat().Mode);
        Assert.Equal(0x1B6, rows()[wide.Id].Perms);

        var group = cleanup.Add(SharedMemorySegment.OpenOrCreate(cleanup.NewKey(), 4096, Mode0640));
        Assert.Equal(Mode0640, group.Stat().Mode);

        var priv = cleanup.Add(SharedMemorySegment.CreatePrivate(4096, UnixFileMode.UserRead));
        Assert.Equal(UnixFileMode.UserRead, priv.Stat().Mode);

        // Only the 0777 bits exist for IPC objects.
        var key = cleanup.NewKey();
        Assert.Equal("mode", Assert.Throws<ArgumentOutOfRangeException>(() => SharedMemorySegment.CreateNew(key, 4096, UnixFileMode.SetUser | UnixFileMode.UserRead)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => SharedMemorySegment.OpenOrCreate(key, 4096, UnixFileMode.StickyBit));
        Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.Open(key));
    }

    [Fact]
    public void Unknown_Option_Is_ArgumentOutOfRangeException()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        Assert.Equal("options", Assert.Throws<ArgumentOutOfRangeException>(() => SharedMemorySegment.CreateNew(key, 4096, options: (SharedMemoryCreateOptions)0x1)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => SharedMemorySegment.CreatePrivate(4096, options: (SharedMemoryCreateOptions)0x200));
    }

    [Fact]
    public void NoReserve_Segment_Works_Like_Any_Other()
    {
        using var cleanup = new IpcCleanup();
        var small = cleanup.Add(SharedMemorySegment.CreatePrivate(4096, options: SharedMemoryCreateOptions.NoReserve));
        using (var a = small.Attach())
        {
            a.Write(0, 1234);
            Assert.Equal(1234, a.Read<int>(0));
        }
    }

    [EnvironmentFact(Needs.OvercommitHeuristic)]
    public void NoReserve_Makes_The_Kernel_Accept_A_Size_It_Could_Not_Reserve()
    {
        // 1 TiB is more than this machine's memory and swap: refused with the reservation, accepted without it
        // (the pages are only allocated when touched, and nothing touches them here).
        using var cleanup = new IpcCleanup();
        const long OneTiB = 1L << 40;
        var e = Assert.Throws<IpcLimitExceededException>(() => SharedMemorySegment.CreatePrivate(OneTiB));
        Assert.Contains("NoReserve", e.Message, StringComparison.Ordinal);

        var huge = cleanup.Add(SharedMemorySegment.CreatePrivate(OneTiB, options: SharedMemoryCreateOptions.NoReserve));
        Assert.Equal(OneTiB, huge.Stat().Size);
    }

    [EnvironmentFact(Needs.OvercommitNotStrict)]
    public void Segment_Larger_Than_The_Address_Space_Is_Created_With_NoReserve_But_Attach_Says_Why_It_Fails()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(long.MaxValue, options: SharedMemoryCreateOptions.NoReserve));
        Assert.Equal(long.MaxValue, segment.Size);

        var e = Assert.Throws<IpcLimitExceededException>(() => segment.Attach());
        Assert.Equal("shmat", e.Operation);
        Assert.Equal(segment.Id, e.Id);
        Assert.Contains("address space", e.Message, StringComparison.Ordinal);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"id {segment.Id}"), e.Message, StringComparison.Ordinal);
    }

    // Root: an unprivileged caller outside vm.hugetlb_shm_group may get EPERM before the pool is even looked at.
    [EnvironmentFact(Needs.Root | Needs.FreeHugePages)]
    public void HugePages_With_Free_Huge_Pages_Work()
    {
        const long TwoMiB = 2 << 20;
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreateNew(cleanup.NewKey(), TwoMiB, options: SharedMemoryCreateOptions.HugePages));
        using var a = segment.Attach();
        a.Write(TwoMiB - 8, 99L);
        Assert.Equal(99L, a.Read<long>(TwoMiB - 8));
    }

    [EnvironmentFact(Needs.Root | Needs.NoHugePages)]
    public void HugePages_Without_Reserved_Huge_Pages_Is_IpcLimitExceededException_About_nr_hugepages()
    {
        const long TwoMiB = 2 << 20;
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var e = Assert.Throws<IpcLimitExceededException>(() => SharedMemorySegment.CreateNew(key, TwoMiB, options: SharedMemoryCreateOptions.HugePages));
        Assert.Equal(12, e.NativeErrorCode);
        Assert.Contains("nr_hugepages", e.Message, StringComparison.Ordinal);
        Assert.Contains("HugePages", e.Message, StringComparison.Ordinal);
        Assert.Contains(key.ToString(), e.Message, StringComparison.Ordinal);
        Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.Open(key));

        // With NoReserve the kernel reserves no huge pages at all, so creation succeeds even with an empty pool
        // (touching the memory would then be SIGBUS; this test does not attach it).
        var unreserved = cleanup.Add(SharedMemorySegment.CreatePrivate(TwoMiB, options: SharedMemoryCreateOptions.HugePages | SharedMemoryCreateOptions.NoReserve));
        Assert.Equal(TwoMiB, unreserved.Stat().Size);
    }
}
