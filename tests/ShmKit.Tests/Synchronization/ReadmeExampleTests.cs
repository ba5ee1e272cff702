namespace ShmKit.Tests.Synchronization;

/// <summary>The README's example, compiled and run, so it stays true.</summary>
public class ReadmeExampleTests
{
    [Fact]
    public void Readme_Example_Works_As_Written()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();

        using var server = SharedMemoryRendezvous.Create(key, size: 64 * 1024);
        server.Attachment.Write(offset: 128, 42L);
        server.MarkReady();

        using var client = SharedMemoryRendezvous.Open(key, timeout: TimeSpan.FromSeconds(5));
        client.WaitReady(TimeSpan.FromSeconds(5));
        using (client.Lock(TimeSpan.FromSeconds(1)))
        {
            using var lease = client.Attachment.Acquire();  // spans and refs come from a lease
            ref long value = ref lease.GetRef<long>(128);
            value++;
        }

        Assert.Equal(43L, server.Attachment.Read<long>(128));
        Assert.Equal(SharedMemorySegment.DefaultMode, server.Segment.Stat().Mode);
    }
}
