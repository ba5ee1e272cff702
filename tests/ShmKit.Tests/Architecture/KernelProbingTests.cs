using ShmKit.Interop;

namespace ShmKit.Tests.Layering;

/// <summary>What the kernel can do is learned by asking it, never from its version string.</summary>
public class KernelProbingTests
{
    [Fact]
    public void No_Library_Code_Reads_The_Kernel_Version()
    {
        using var model = AssemblyModel.OpenShmKit();
        string[] versionSources = ["System.Environment::get_OSVersion", "System.Runtime.InteropServices.RuntimeInformation::get_OSDescription"];
        var readers = model.Types
            .SelectMany(t => model.IlTokens(t).Select(i => (Type: model.Name(t), i.Method, Member: model.MemberName(i.Token))))
            .Where(i => versionSources.Contains(i.Member, StringComparer.Ordinal))
            .Select(i => $"{i.Type}.{i.Method} reads {i.Member}")
            .ToList();
        Assert.True(readers.Count == 0, "probe the kernel instead:\n" + string.Join('\n', readers));
    }

    [Fact]
    public void Stat_Any_Support_Is_Probed_Once_And_Cached_Per_Kind()
    {
        // A segment, set and queue exist while listing, so every probe meets an index in use and can decide.
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var segment = cleanup.Add(SharedMemorySegment.CreateNew(key, 4096));
        var set = SemaphoreSet.CreateNew(key, [0]);
        cleanup.AddId('s', set.Id);
        var queue = MessageQueue.CreateNew(key);
        cleanup.AddId('q', queue.Id);

        Assert.Contains(SharedMemorySegment.GetAll(), s => s.Id == segment.Id);
        Assert.Contains(SemaphoreSet.GetAll(), s => s.Id == set.Id);
        Assert.Contains(MessageQueue.GetAll(), q => q.Id == queue.Id);

        // This project's kernels are newer than 4.17, so each probe found *_STAT_ANY.
        Assert.True(IpcControl<SharedMemoryKind, Shm.shmid_ds>.HasStatAny);
        Assert.True(IpcControl<SemaphoreSetKind, SemaphoreSetStatus>.HasStatAny);
        Assert.True(IpcControl<MessageQueueKind, Msg.msqid_ds>.HasStatAny);
    }
}
