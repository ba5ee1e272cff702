using System.Globalization;

namespace ShmKit.Tests.Segments;

/// <summary>Two OS processes sharing one segment by key.</summary>
public class CrossProcessTests
{
    private const int RecordSize = 64;
    private const int Records = 100;
    private const int EditedRecord = 47;

    // The same formulas as ShmKit.TestChild's SegmentVerbs.Pattern and Edited.
    private static byte Pattern(int record, int index) => (byte)((record * 31) + (index * 7) + 1);

    private static byte Edited(int index) => (byte)(0xA0 ^ index);

    [Fact]
    public void Child_Sees_What_The_Parent_Wrote_And_Its_One_Record_Edit_Is_All_That_Changes()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();

        // Size not a multiple of the record: the tail after the table must stay untouched as well.
        var segment = cleanup.Add(SharedMemorySegment.CreateNew(key, (RecordSize * Records) + 13));
        using var parent = segment.Attach();
        using (var lease = parent.Acquire())
        {
            for (int r = 0; r < Records; r++)
            {
                Span<byte> record = lease.GetSpan((long)r * RecordSize, RecordSize);
                for (int i = 0; i < RecordSize; i++)
                {
                    record[i] = Pattern(r, i);
                }
            }

            lease.GetSpan(RecordSize * Records, 13).Fill(0xEE);
        }

        byte[] before = parent.ReadAll();

        // Who writes: the parent above, then only the child (one record). Who reads: the child (all), then the
        // parent. Ordering: the child starts after the parent's writes and the parent reads after the child exited;
        // process start and exit are full barriers, so no Volatile is needed here. Mid-update: nobody reads while
        // the other side writes, so no reader can see a half-written record.
        var (code, stdout, stderr) = ChildProcess.RunChild("shm-edit-record",
            key.ToString(),
            RecordSize.ToString(CultureInfo.InvariantCulture),
            Records.ToString(CultureInfo.InvariantCulture),
            EditedRecord.ToString(CultureInfo.InvariantCulture));
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"SIZE {segment.Size}"), stdout, StringComparison.Ordinal);
        Assert.Contains("SAW OK", stdout, StringComparison.Ordinal);
        Assert.Contains("EDITED", stdout, StringComparison.Ordinal);

        byte[] after = parent.ReadAll();
        var changed = Enumerable.Range(0, after.Length).Where(i => after[i] != before[i]).ToArray();
        Assert.NotEmpty(changed);
        Assert.True(changed.Min() >= EditedRecord * RecordSize, $"byte {changed.Min()} changed before the record");
        Assert.True(changed.Max() < (EditedRecord + 1) * RecordSize, $"byte {changed.Max()} changed after the record");
        for (int i = 0; i < RecordSize; i++)
        {
            Assert.Equal(Edited(i), after[(EditedRecord * RecordSize) + i]);
        }

        var info = segment.Stat();
        Assert.Equal(1, info.AttachCount);
        Assert.NotEqual(Environment.ProcessId, info.LastOperationProcessId);
    }

    [Fact]
    public void Child_Attached_Read_Only_Cannot_Write()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var segment = cleanup.Add(SharedMemorySegment.CreateNew(key, 4096));
        using var parent = segment.Attach();
        parent.Write<byte>(0, 42);
        byte[] before = parent.ReadAll();

        var (code, stdout, stderr) = ChildProcess.RunChild("shm-readonly-write", key.ToString());
        Assert.Contains("ATTACHED", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("WROTE", stdout, StringComparison.Ordinal);
        Assert.True(code is 134 or 139, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Equal(before, parent.ReadAll());
        Assert.Equal(1, segment.Stat().AttachCount); // the dead child's attachment was detached by the kernel
    }
}
