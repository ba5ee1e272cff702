namespace ShmKit.Tests;

public class SmokeTests
{
    [Fact]
    public void CreateAttachWriteReadRemove()
    {
        var segment = SharedMemorySegment.CreatePrivate(4096);
        try
        {
            using (var a = segment.Attach())
            {
                a.Write(100, 0x1122334455667788L);
                Assert.Equal(0x1122334455667788L, a.Read<long>(100));
                Assert.Throws<ArgumentOutOfRangeException>(() => a.Read<long>(4090));
            }

            var info = segment.Stat();
            Assert.Equal(4096, info.Size);
            Assert.Equal(SharedMemorySegment.DefaultMode, info.Mode);
            Assert.Equal(Environment.ProcessId, info.CreatorProcessId);
            Assert.NotNull(info.LastAttachTime);
            Assert.Contains(SharedMemorySegment.GetAll(), s => s.Id == segment.Id);
            Assert.True(SharedMemorySegment.GetLimits().MaxSegmentSize > 0);
        }
        finally
        {
            segment.Remove();
        }

        Assert.Throws<IpcObjectNotFoundException>(() => segment.Stat());
    }
}
