using System.Globalization;

namespace ShmKit.Tests.Segments;

/// <summary>
/// Segments whose mode does not let even their owner read them (0200): creating them must not need IPC_STAT,
/// must not leak them, and removing them must not need a stat either (ipcrm can remove them).
/// </summary>
public class UnreadableSegmentTests
{
    [EnvironmentFact(Needs.Root | Needs.UtilLinux)]
    public void An_Unprivileged_Owner_Creates_And_Removes_Write_Only_Segments_Without_Leaking_Them()
    {
        using var cleanup = new IpcCleanup();
        var key1 = cleanup.NewKey();
        var key2 = cleanup.NewKey();

        var (code, stdout, stderr) = SegmentTestSupport.RunChildAsNobody("shm-unreadable", key1.ToString(), key2.ToString());
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        SegmentTestSupport.AssertOutcomes(
            stdout,
            ("create-new", "OK"),
            ("open-or-create", "OK"),
            ("open-or-create-again", "OK"),
            ("create-private", "OK"),
            ("remove-1", "OK"),
            ("remove-2", "OK"));
        Assert.DoesNotContain("LEAKED", stdout, StringComparison.Ordinal);
        Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.Open(key1));
        Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.Open(key2));
    }

    [Fact]
    public void Open_By_Key_Asks_The_Kernel_For_Nothing_But_The_Id_And_Remove_Works_On_A_Closed_Segment()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var segment = cleanup.Add(SharedMemorySegment.CreateNew(key, 8192));
        segment.SetMode(0);

        var opened = SharedMemorySegment.Open(key);
        Assert.Equal(segment.Id, opened.Id);
        Assert.Equal(8192, opened.Size);
        opened.Remove();
        Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.Open(key));
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"id {segment.Id}"), opened.ToString(), StringComparison.Ordinal);
    }
}
