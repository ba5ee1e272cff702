namespace ShmKit;

/// <summary>
/// A single-producer/single-consumer queue already has a live producer (or consumer), in this process or another.
/// Only one of each may exist at a time; a dead holder's role is taken over by the next one who asks, so this means
/// the holder still runs. Dispose the other handle, or use a multi-producer/multi-consumer queue.
/// </summary>
public sealed class ShmQueueRoleInUseException : IpcException
{
    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public ShmQueueRoleInUseException(string message)
        : base(message)
    {
        Role = string.Empty;
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public ShmQueueRoleInUseException(string message, Exception innerException)
        : base(message, innerException)
    {
        Role = string.Empty;
    }

    /// <summary>Creates an exception that names the role and its holder.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="key">The segment's key, when known.</param>
    /// <param name="id">The segment's id, when known.</param>
    /// <param name="role">"producer" or "consumer".</param>
    /// <param name="holderProcessId">The holder's pid (as it sees itself), or 0 when unknown.</param>
    public ShmQueueRoleInUseException(string message, IpcKey? key, int? id, string role, int holderProcessId)
        : base(message, IpcObjectKind.SharedMemory, "queue role", key, id, 0)
    {
        Role = role;
        HolderProcessId = holderProcessId;
    }

    /// <summary>"producer" or "consumer".</summary>
    public string Role { get; }

    /// <summary>The holder's pid, or 0 when unknown.</summary>
    public int HolderProcessId { get; }
}
