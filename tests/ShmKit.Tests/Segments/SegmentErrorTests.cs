using System.Globalization;

namespace ShmKit.Tests.Segments;

/// <summary>Every kernel error a segment call can meet, asserted by exception type and message.</summary>
public class SegmentErrorTests
{
    [Fact]
    public void Operations_On_A_Removed_Segment_Are_IpcObjectRemovedException_Naming_Operation_Key_And_Id()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var segment = cleanup.Add(SharedMemorySegment.CreateNew(key, 4096));
        var sameById = SharedMemorySegment.OpenById(segment.Id);
        segment.Remove();

        void Removed(Action action, string operation)
        {
            var e = Assert.Throws<IpcObjectRemovedException>(action);
            Assert.Equal(operation, e.Operation);
            Assert.Equal(segment.Id, e.Id);
            Assert.Equal(IpcObjectKind.SharedMemory, e.Kind);
            Assert.Contains(operation, e.Message, StringComparison.Ordinal);
            Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"id {segment.Id}"), e.Message, StringComparison.Ordinal);
            Assert.Contains("removed", e.Message, StringComparison.Ordinal);
        }

        Removed(() => segment.Stat(), "shmctl(IPC_STAT)");
        Removed(() => segment.Attach(), "shmat");
        Removed(() => segment.AttachReadOnly(), "shmat(SHM_RDONLY)");
        Removed(() => segment.SetMode(SharedMemorySegment.DefaultMode), "shmctl(IPC_STAT)");
        Removed(() => segment.SetOwner(0, 0), "shmctl(IPC_STAT)");
        Removed(() => segment.LockInMemory(), "shmctl(SHM_LOCK)");
        Removed(() => segment.UnlockInMemory(), "shmctl(SHM_UNLOCK)");
        Removed(() => segment.Remove(), "shmctl(IPC_RMID)");
        Removed(() => sameById.Stat(), "shmctl(IPC_STAT)");

        // The key is named too when the instance has one.
        var withKey = Assert.Throws<IpcObjectRemovedException>(() => segment.Stat());
        Assert.Equal(key, withKey.Key);
        Assert.Contains(key.ToString(), withKey.Message, StringComparison.Ordinal);

        // Lookups that find nothing are "not found".
        var byId = Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.OpenById(segment.Id));
        Assert.Equal(segment.Id, byId.Id);
        var rm = Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.Remove(segment.Id));
        Assert.Contains("shmctl(IPC_RMID)", rm.Message, StringComparison.Ordinal);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"id {segment.Id}"), rm.Message, StringComparison.Ordinal);
        var byKey = Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.Open(key));
        Assert.Contains(key.ToString(), byKey.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Static_Remove_By_Id_Removes()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        SharedMemorySegment.Remove(segment.Id);
        Assert.Throws<IpcObjectRemovedException>(() => segment.Stat());
    }

    [EnvironmentFact(Needs.Root | Needs.UtilLinux)]
    public void Unprivileged_User_Against_A_0600_Segment_Gets_IpcAccessDeniedException()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var segment = cleanup.Add(SharedMemorySegment.CreateNew(key, 4096));

        var (code, stdout, stderr) = SegmentTestSupport.RunChildAsNobody("shm-access", key.ToString());
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var report = SegmentTestSupport.ParseReport(stdout);

        // Opening by key asks for nothing (shmget without mode bits); OpenOrCreate asks for the 0600 it passes, and
        // every use is checked: attaching needs read (and write) permission, changing and removing ownership.
        Assert.Equal("OK", report["open"]);
        Assert.Equal(nameof(IpcAccessDeniedException), report["open-or-create"]);
        Assert.Equal(nameof(IpcAccessDeniedException), report["attach"]);
        Assert.Equal(nameof(IpcAccessDeniedException), report["attach-ro"]);
        Assert.Equal(nameof(IpcAccessDeniedException), report["setmode"]);
        Assert.Equal(nameof(IpcAccessDeniedException), report["remove"]);
        Assert.Contains("permission denied", stderr, StringComparison.Ordinal);
        Assert.Contains(key.ToString(), stderr, StringComparison.Ordinal);

        // The hint works for the user who got the error: ipcs reads /proc/sysvipc, which shows every owner and mode.
        Assert.Contains("attach: IpcAccessDeniedException: shmat failed", stderr, StringComparison.Ordinal);
        Assert.Contains("`ipcs -m` shows its owner and mode", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("shmkit", stderr, StringComparison.Ordinal);
        Assert.Equal(0, segment.Stat().AttachCount);
        Assert.Equal(SharedMemorySegment.DefaultMode, segment.Stat().Mode);
    }

    [EnvironmentFact(Needs.Root | Needs.UtilLinux)]
    public void Unprivileged_User_With_Read_Only_Permission_Can_Attach_Read_Only_But_Not_Write_Change_Or_Remove()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var segment = cleanup.Add(SharedMemorySegment.CreateNew(key, 4096, (UnixFileMode)0x184)); // 0604

        var (code, stdout, stderr) = SegmentTestSupport.RunChildAsNobody("shm-access", key.ToString());
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var report = SegmentTestSupport.ParseReport(stdout);
        Assert.Equal("OK", report["open"]);
        // shmget checks the mode bits passed with IPC_CREAT (0600 by default) as the access asked for.
        Assert.Equal(nameof(IpcAccessDeniedException), report["open-or-create"]);
        Assert.Contains("open-or-create: IpcAccessDeniedException: shmget failed", stderr, StringComparison.Ordinal);
        Assert.Equal(nameof(IpcAccessDeniedException), report["attach"]);      // EACCES: no write permission
        Assert.Equal("OK", report["attach-ro"]);
        Assert.Equal(nameof(IpcAccessDeniedException), report["setmode"]);     // EPERM: not owner or creator
        Assert.Equal(nameof(IpcAccessDeniedException), report["remove"]);      // EPERM
        Assert.Contains("attach: IpcAccessDeniedException: shmat failed", stderr, StringComparison.Ordinal);
        Assert.Contains("remove: IpcAccessDeniedException: shmctl(IPC_RMID) failed", stderr, StringComparison.Ordinal);
        Assert.Contains("only its owner, its creator or a privileged process", stderr, StringComparison.Ordinal);

        var info = segment.Stat();
        Assert.Equal((UnixFileMode)0x184, info.Mode);
        Assert.False(info.IsMarkedForRemoval);
        Assert.NotEqual(Environment.ProcessId, info.LastOperationProcessId);
    }

    [EnvironmentFact(Needs.Root | Needs.UtilLinux)]
    public void Unprivileged_Owner_Can_Take_Away_And_Give_Back_Its_Own_Permissions()
    {
        using var cleanup = new IpcCleanup();
        var (code, stdout, stderr) = SegmentTestSupport.RunChildAsNobody("shm-own-mode");
        var id = System.Text.RegularExpressions.Regex.Match(stdout, @"ID (\d+)");
        if (id.Success)
        {
            cleanup.AddId('m', int.Parse(id.Groups[1].Value, CultureInfo.InvariantCulture));
        }

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var report = SegmentTestSupport.ParseReport(stdout);
        Assert.Equal("OK", report["setmode-none"]);
        Assert.Equal(nameof(IpcAccessDeniedException), report["stat-closed"]); // IPC_STAT needs read permission
        Assert.Equal("OK", report["setmode-back"]);                             // IPC_SET needs only ownership
        Assert.Equal("0600", report["mode"]);
        Assert.Equal("OK", report["attach"]);
    }

    [EnvironmentFact(Needs.Root | Needs.UtilLinux)]
    public void Lock_Without_Privilege_Is_Bounded_By_RLIMIT_MEMLOCK_With_Specific_Errors()
    {
        using var cleanup = new IpcCleanup();

        (Dictionary<string, string> Report, string Stderr) RunLock(long memlock, long size)
        {
            var (code, stdout, stderr) = SegmentTestSupport.RunChildAsNobody(memlock, "shm-lock", size.ToString(CultureInfo.InvariantCulture));
            var id = System.Text.RegularExpressions.Regex.Match(stdout, @"ID (\d+)");
            if (id.Success)
            {
                cleanup.AddId('m', int.Parse(id.Groups[1].Value, CultureInfo.InvariantCulture));
            }

            Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
            return (SegmentTestSupport.ParseReport(stdout), stderr);
        }

        // Within the limit: an unprivileged owner may lock.
        var (ok, _) = RunLock(64 << 10, 4096);
        Assert.Equal("OK", ok["lock"]);
        Assert.Equal("yes", ok["locked"]);
        Assert.Equal("OK", ok["unlock"]);

        // Beyond the limit: ENOMEM, which is a limit, not a lack of memory.
        var (over, overErr) = RunLock(64 << 10, 1 << 20);
        Assert.Equal(nameof(IpcLimitExceededException), over["lock"]);
        Assert.Equal("no", over["locked"]);
        Assert.Contains("RLIMIT_MEMLOCK", overErr, StringComparison.Ordinal);
        Assert.Contains("1048576 bytes", overErr, StringComparison.Ordinal);

        // No memlock allowance at all: EPERM.
        var (none, noneErr) = RunLock(0, 4096);
        Assert.Equal(nameof(IpcAccessDeniedException), none["lock"]);
        Assert.Contains("CAP_IPC_LOCK", noneErr, StringComparison.Ordinal);
        Assert.Contains("shmctl(SHM_LOCK)", noneErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Attach_With_A_Hint_To_A_Removed_Segment_Is_IpcObjectRemovedException_Not_A_Hint_Error()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        segment.Remove();
        Assert.Throws<IpcObjectRemovedException>(() => segment.Attach(4096 * 1000 + 1));
        Assert.Throws<IpcObjectRemovedException>(() => segment.AttachReadOnly(4096 * 1000, roundAddressHint: true));
    }

    [Fact]
    public void IpcAccessDeniedException_Is_An_UnauthorizedAccessException()
    {
        Assert.True(typeof(UnauthorizedAccessException).IsAssignableFrom(typeof(IpcAccessDeniedException)));
        foreach (var t in new[] { typeof(IpcObjectExistsException), typeof(IpcObjectNotFoundException), typeof(IpcObjectRemovedException), typeof(IpcSizeException), typeof(IpcLimitExceededException) })
        {
            Assert.True(typeof(IpcException).IsAssignableFrom(t), t.Name);
        }
    }

    [EnvironmentFact(Needs.Root | Needs.UtilLinux)]
    public void Size_Above_Shmmax_Is_IpcSizeException_And_Too_Many_Segments_Is_IpcLimitExceededException()
    {
        // A private IPC namespace has its own kernel.shm* limits and its own segments, so lowering them there
        // touches nothing else on the host. Everything made inside disappears with the namespace.
        var (code, stdout, stderr) = SegmentTestSupport.Run("unshare", [
            "--ipc", "sh", "-c",
            "echo 1048576 > /proc/sys/kernel/shmmax && echo 3 > /proc/sys/kernel/shmmni && exec \"$0\" \"$1\" shm-limits",
            ChildProcess.DotnetHost, ChildProcess.TestChildDll]);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains("MAX 1048576", stdout, StringComparison.Ordinal);
        Assert.Contains("MNI 3", stdout, StringComparison.Ordinal);

        string over = stdout.Split('\n').Single(l => l.StartsWith("OVER ", StringComparison.Ordinal));
        Assert.StartsWith("OVER IpcSizeException|shmget failed", over, StringComparison.Ordinal);
        Assert.Contains("1048577 bytes", over, StringComparison.Ordinal);
        Assert.Contains("shmmax=1048576", over, StringComparison.Ordinal);

        string full = stdout.Split('\n').Single(l => l.StartsWith("FULL ", StringComparison.Ordinal));
        Assert.StartsWith("FULL IpcLimitExceededException|shmget failed", full, StringComparison.Ordinal);
        Assert.Contains("shmmni=3", full, StringComparison.Ordinal);
        Assert.Contains("CREATED 3", stdout, StringComparison.Ordinal);
    }
}
