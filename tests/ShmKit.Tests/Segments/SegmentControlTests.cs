using System.Globalization;

namespace ShmKit.Tests.Segments;

/// <summary>shmctl: Stat, SetMode, SetOwner, Remove, Lock/Unlock, GetLimits, GetAll.</summary>
public class SegmentControlTests
{
    [Fact]
    public void Stat_Reports_Every_Field()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        long before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var segment = cleanup.Add(SharedMemorySegment.CreateNew(key, 12345, (UnixFileMode)0x1A4)); // 0644

        var fresh = segment.Stat();
        Assert.Equal(key, fresh.Key);
        Assert.Equal(segment.Id, fresh.Id);
        Assert.Equal(12345, fresh.Size);
        Assert.Equal((UnixFileMode)0x1A4, fresh.Mode);
        Assert.Equal(SegmentTestSupport.EffectiveUserId, fresh.OwnerUserId);
        Assert.Equal(SegmentTestSupport.EffectiveGroupId, fresh.OwnerGroupId);
        Assert.Equal(SegmentTestSupport.EffectiveUserId, fresh.CreatorUserId);
        Assert.Equal(SegmentTestSupport.EffectiveGroupId, fresh.CreatorGroupId);
        Assert.Equal(Environment.ProcessId, fresh.CreatorProcessId);
        Assert.Equal(0, fresh.LastOperationProcessId);
        Assert.Equal(0, fresh.AttachCount);
        Assert.Null(fresh.LastAttachTime);
        Assert.Null(fresh.LastDetachTime);
        Assert.NotNull(fresh.LastChangeTime);
        Assert.InRange(fresh.LastChangeTime!.Value.ToUnixTimeSeconds(), before - 1, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.False(fresh.IsMarkedForRemoval);
        Assert.False(fresh.IsLocked);

        // The uid and gid agree with what `id` says about this process.
        var (_, uid, _) = SegmentTestSupport.Run("id", "-u");
        var (_, gid, _) = SegmentTestSupport.Run("id", "-g");
        Assert.Equal(uint.Parse(uid.Trim(), CultureInfo.InvariantCulture), fresh.OwnerUserId);
        Assert.Equal(uint.Parse(gid.Trim(), CultureInfo.InvariantCulture), fresh.OwnerGroupId);

        using (var a = segment.Attach())
        {
            var one = segment.Stat();
            Assert.Equal(1, one.AttachCount);
            Assert.Equal(Environment.ProcessId, one.LastOperationProcessId);
            Assert.NotNull(one.LastAttachTime);
            Assert.Null(one.LastDetachTime);
            Assert.InRange(one.LastAttachTime!.Value.ToUnixTimeSeconds(), before - 1, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);

            using (var b = segment.AttachReadOnly())
            {
                Assert.Equal(2, segment.Stat().AttachCount);
            }

            var afterOne = segment.Stat();
            Assert.Equal(1, afterOne.AttachCount);
            Assert.NotNull(afterOne.LastDetachTime);
        }

        var after = segment.Stat();
        Assert.Equal(0, after.AttachCount);
        Assert.NotNull(after.LastAttachTime);
        Assert.NotNull(after.LastDetachTime);
        Assert.Equal(Environment.ProcessId, after.LastOperationProcessId);
        Assert.Equal(fresh.LastChangeTime, after.LastChangeTime);

        // Another process attaching is counted and becomes the last operator.
        var (code, stdout, stderr) = ChildProcess.RunChild("shm-readonly-maps", key.ToString());
        Assert.True(code == 0, stdout + stderr);
        var byChild = segment.Stat();
        Assert.NotEqual(Environment.ProcessId, byChild.LastOperationProcessId);
        Assert.Equal(Environment.ProcessId, byChild.CreatorProcessId);
        Assert.Equal(0, byChild.AttachCount);
    }

    [Fact]
    public void Remove_While_Attached_Marks_It_And_The_Attachment_Keeps_Working_Until_Detach()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var segment = cleanup.Add(SharedMemorySegment.CreateNew(key, 4096));
        var a = segment.Attach();
        try
        {
            a.Write(0, 1234L);
            segment.Remove();

            var info = segment.Stat();
            Assert.True(info.IsMarkedForRemoval);
            Assert.True(info.Key.IsPrivate); // the kernel drops the key: nobody can find it any more
            Assert.Equal(1, info.AttachCount);
            Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.Open(key));
            Assert.Contains(SharedMemorySegment.GetAll(), s => s.Id == segment.Id && s.IsMarkedForRemoval);

            // Still fully usable.
            Assert.Equal(1234L, a.Read<long>(0));
            a.Write(8, 99L);
            Assert.Equal(99L, a.Read<long>(8));

            // The key is free again for a new segment.
            var successor = cleanup.Add(SharedMemorySegment.CreateNew(key, 4096));
            Assert.NotEqual(segment.Id, successor.Id);
        }
        finally
        {
            a.Dispose();
        }

        // Gone after the last detach.
        Assert.Throws<IpcObjectRemovedException>(() => segment.Stat());
        Assert.DoesNotContain(SharedMemorySegment.GetAll(), s => s.Id == segment.Id);
        Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.OpenById(segment.Id));
    }

    [Fact]
    public void SetMode_Changes_Only_The_Permission_Bits()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        var created = segment.Stat();

        segment.SetMode((UnixFileMode)0x1B6); // 0666
        var wide = segment.Stat();
        Assert.Equal((UnixFileMode)0x1B6, wide.Mode);
        Assert.Equal(0x1B6, SegmentTestSupport.ReadProcSysvipcShm()[segment.Id].Perms);
        Assert.Equal(created.OwnerUserId, wide.OwnerUserId);
        Assert.NotNull(wide.LastChangeTime);

        segment.SetMode(UnixFileMode.UserRead);
        Assert.Equal(UnixFileMode.UserRead, segment.Stat().Mode);

        Assert.Equal("mode", Assert.Throws<ArgumentOutOfRangeException>(() => segment.SetMode(UnixFileMode.SetGroup | UnixFileMode.UserRead)).ParamName);
        Assert.Equal(UnixFileMode.UserRead, segment.Stat().Mode);

        // A segment marked for removal keeps that status bit apart from the mode it is given.
        segment.SetMode(SharedMemorySegment.DefaultMode);
        using var a = segment.Attach();
        segment.Remove();
        segment.SetMode((UnixFileMode)0x1A0); // 0640
        var marked = segment.Stat();
        Assert.Equal((UnixFileMode)0x1A0, marked.Mode);
        Assert.True(marked.IsMarkedForRemoval);
        Assert.Equal(0x200 | 0x1A0, SegmentTestSupport.ReadProcSysvipcShm()[segment.Id].Perms);
    }

    [EnvironmentFact(Needs.Root)]
    public void SetOwner_Changes_Owner_But_Not_Creator()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        uint uid = SegmentTestSupport.EffectiveUserId;
        uint gid = SegmentTestSupport.EffectiveGroupId;

        segment.SetOwner(SegmentTestSupport.Nobody, SegmentTestSupport.Nobody);
        var info = segment.Stat();
        Assert.Equal((uint)SegmentTestSupport.Nobody, info.OwnerUserId);
        Assert.Equal((uint)SegmentTestSupport.Nobody, info.OwnerGroupId);
        Assert.Equal(uid, info.CreatorUserId);
        Assert.Equal(gid, info.CreatorGroupId);
        Assert.Equal(SharedMemorySegment.DefaultMode, info.Mode);
        var row = SegmentTestSupport.ReadProcSysvipcShm()[segment.Id];
        Assert.Equal((uint)SegmentTestSupport.Nobody, row.Uid);
        Assert.Equal(uid, row.Cuid);

        segment.SetOwner(uid, gid);
        Assert.Equal(uid, segment.Stat().OwnerUserId);
        Assert.Equal(gid, segment.Stat().OwnerGroupId);
    }

    [EnvironmentFact(Needs.Root)]
    public void Lock_And_Unlock_Set_And_Clear_IsLocked()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(8192));
        Assert.False(segment.Stat().IsLocked);
        segment.LockInMemory();
        var locked = segment.Stat();
        Assert.True(locked.IsLocked);
        Assert.Equal(SharedMemorySegment.DefaultMode, locked.Mode); // SHM_LOCKED is not a permission bit
        Assert.Equal(0x400 | 0x180, SegmentTestSupport.ReadProcSysvipcShm()[segment.Id].Perms);
        segment.LockInMemory(); // idempotent
        segment.UnlockInMemory();
        Assert.False(segment.Stat().IsLocked);
    }

    [Fact]
    public void GetLimits_Agrees_With_Proc_Sys_Kernel()
    {
        using var cleanup = new IpcCleanup();
        var limits = SharedMemorySegment.GetLimits();
        Assert.Equal(SegmentTestSupport.ReadProcULong("/proc/sys/kernel/shmmax"), limits.MaxSegmentSize);
        Assert.Equal(SegmentTestSupport.ReadProcULong("/proc/sys/kernel/shmmni"), limits.MaxSegments);
        Assert.Equal(SegmentTestSupport.ReadProcULong("/proc/sys/kernel/shmall"), limits.MaxTotalPages);
        Assert.Equal(1UL, limits.MinSegmentSize);
        Assert.True(limits.MaxSegmentsPerProcess > 0);
        Assert.Equal(Environment.SystemPageSize, limits.PageSize);

        // Usage moves with what this test creates (other processes may create and remove segments meanwhile, so
        // compare against the kernel's own listing taken right after).
        var a = cleanup.Add(SharedMemorySegment.CreatePrivate(3 * 4096));
        var usage = SharedMemorySegment.GetLimits();
        Assert.True(usage.SegmentsInUse >= 1);
        Assert.True(usage.PagesInUse >= 3);
        Assert.True(usage.PagesResident <= usage.PagesInUse + 1_000_000);
        Assert.Contains(SharedMemorySegment.GetAll(), s => s.Id == a.Id);
    }

    [Fact]
    public void GetAll_Lists_Created_Segments_With_Their_Fields_And_Agrees_With_Proc_Sysvipc_Shm()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var keyed = cleanup.Add(SharedMemorySegment.CreateNew(key, 7000, (UnixFileMode)0x1A0));
        var priv = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        using var attached = keyed.Attach();

        var all = SharedMemorySegment.GetAll();
        Assert.Equal(all.OrderBy(s => s.Id).Select(s => s.Id), all.Select(s => s.Id));
        var k = Assert.Single(all, s => s.Id == keyed.Id);
        Assert.Equal(key, k.Key);
        Assert.Equal(7000, k.Size);
        Assert.Equal((UnixFileMode)0x1A0, k.Mode);
        Assert.Equal(1, k.AttachCount);
        Assert.Equal(Environment.ProcessId, k.CreatorProcessId);
        Assert.Equal(keyed.Stat() with { LastAttachTime = k.LastAttachTime }, k);
        var p = Assert.Single(all, s => s.Id == priv.Id);
        Assert.True(p.Key.IsPrivate);
        Assert.Equal(4096, p.Size);

        // Every segment the kernel lists is in GetAll with the same fields (SHM_STAT_ANY ignores read permission,
        // as /proc does). Other processes may create, remove or change their segments between the two reads, so
        // theirs are compared on the fields that never change; this test's own segments on every field.
        var proc = SegmentTestSupport.ReadProcSysvipcShm();
        var byId = SharedMemorySegment.GetAll().ToDictionary(s => s.Id);
        Assert.Contains(keyed.Id, proc.Keys);
        Assert.Contains(priv.Id, proc.Keys);
        foreach (var row in proc.Values.Where(r => byId.ContainsKey(r.Id)))
        {
            var s = byId[row.Id];
            Assert.Equal(row.Size, s.Size);
            Assert.Equal(row.CreatorPid, s.CreatorProcessId);
            Assert.Equal(row.Cuid, s.CreatorUserId);
            Assert.Equal(row.Cgid, s.CreatorGroupId);
        }

        foreach (int id in new[] { keyed.Id, priv.Id })
        {
            var row = proc[id];
            var s = byId[id];
            Assert.Equal(row.Key, s.Key.Value);
            Assert.Equal(row.Size, s.Size);
            Assert.Equal(row.Perms & 0x1FF, (int)s.Mode);
            Assert.Equal((row.Perms & 0x200) != 0, s.IsMarkedForRemoval);
            Assert.Equal((row.Perms & 0x400) != 0, s.IsLocked);
            Assert.Equal(row.CreatorPid, s.CreatorProcessId);
            Assert.Equal(row.Uid, s.OwnerUserId);
            Assert.Equal(row.Gid, s.OwnerGroupId);
            Assert.Equal(row.Cuid, s.CreatorUserId);
            Assert.Equal(row.Cgid, s.CreatorGroupId);
            Assert.Equal(row.ChangeTime, s.LastChangeTime?.ToUnixTimeSeconds() ?? 0);
        }

        var mine = proc[keyed.Id];
        Assert.Equal(1, mine.AttachCount);
        Assert.Equal(Environment.ProcessId, mine.LastPid);
        Assert.Equal(mine.AttachTime, byId[keyed.Id].LastAttachTime!.Value.ToUnixTimeSeconds());
    }
}
