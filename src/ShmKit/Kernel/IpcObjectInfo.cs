namespace ShmKit;

/// <summary>
/// What the kernel keeps about every System V IPC object (<c>struct ipc_perm</c> and the change time), shared by
/// <see cref="SharedMemorySegmentInfo"/>, <see cref="SemaphoreSetInfo"/> and <see cref="MessageQueueInfo"/>.
/// A snapshot: the object may change or disappear right after it was read.
/// </summary>
public abstract record IpcObjectInfo
{
    /// <summary>The family of object.</summary>
    public abstract IpcObjectKind Kind { get; }

    /// <summary>The key (<see cref="IpcKey.Private"/> for a private object, or a segment marked for removal).</summary>
    public required IpcKey Key { get; init; }

    /// <summary>The id.</summary>
    public required int Id { get; init; }

    /// <summary>The permission bits (0777).</summary>
    public required UnixFileMode Mode { get; init; }

    /// <summary>The owner's user id.</summary>
    public required uint OwnerUserId { get; init; }

    /// <summary>The owner's group id.</summary>
    public required uint OwnerGroupId { get; init; }

    /// <summary>The creator's user id.</summary>
    public required uint CreatorUserId { get; init; }

    /// <summary>The creator's group id.</summary>
    public required uint CreatorGroupId { get; init; }

    /// <summary>Creation or the last IPC_SET, or null if the kernel has none.</summary>
    public DateTimeOffset? LastChangeTime { get; init; }
}
