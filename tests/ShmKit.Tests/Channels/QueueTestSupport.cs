namespace ShmKit.Tests.Channels;

/// <summary>Managed segments for queue tests (test keys, removed by the test's <see cref="IpcCleanup"/>).</summary>
internal static class QueueTestSupport
{
    /// <summary>A managed segment with room for <paramref name="queues"/> queues of up to <paramref name="capacity"/> bytes.</summary>
    internal static ManagedSegment CreateSegment(IpcCleanup cleanup, long capacity = 64 * 1024, int queues = 2)
    {
        var options = new ManagedSegmentOptions { ParticipantCapacity = 64, DirectoryCapacity = 8 };
        long size = ManagedSegment.GetMinimumSize(options) + (queues * (capacity + 1024 + 128)) + 4096;
        return ManagedSegment.Create(cleanup.NewKey(), size, options);
    }
}
