namespace ShmKit;

/// <summary>
/// A name in a <see cref="ManagedSegment"/>'s directory already belongs to a structure of another kind, layout
/// version or size than the one asked for. Nothing was created or changed. Use another name, or open the existing
/// structure with its own kind and size (<see cref="ManagedSegment.GetEntries"/> lists them).
/// </summary>
public sealed class ShmNameConflictException : IpcException
{
    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public ShmNameConflictException(string message)
        : base(message)
    {
        Name = string.Empty;
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public ShmNameConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
        Name = string.Empty;
    }

    /// <summary>Creates an exception that names both the existing and the requested structure.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="key">The segment's key.</param>
    /// <param name="id">The segment's id.</param>
    /// <param name="name">The name.</param>
    /// <param name="existing">The existing structure: kind, layout version, size.</param>
    /// <param name="requested">What was asked for: kind, layout version, size (0 when any size would do).</param>
    public ShmNameConflictException(string message, IpcKey? key, int? id, string name,
        (ShmStructureKind Kind, int LayoutVersion, long Size) existing, (ShmStructureKind Kind, int LayoutVersion, long Size) requested)
        : base(message, IpcObjectKind.SharedMemory, "find-or-create", key, id, 0)
    {
        Name = name;
        ExistingKind = existing.Kind;
        ExistingLayoutVersion = existing.LayoutVersion;
        ExistingSize = existing.Size;
        RequestedKind = requested.Kind;
        RequestedLayoutVersion = requested.LayoutVersion;
        RequestedSize = requested.Size;
    }

    /// <summary>The name.</summary>
    public string Name { get; }

    /// <summary>The kind of the existing structure.</summary>
    public ShmStructureKind ExistingKind { get; }

    /// <summary>The layout version of the existing structure.</summary>
    public int ExistingLayoutVersion { get; }

    /// <summary>The size in bytes of the existing structure.</summary>
    public long ExistingSize { get; }

    /// <summary>The kind asked for.</summary>
    public ShmStructureKind RequestedKind { get; }

    /// <summary>The layout version asked for.</summary>
    public int RequestedLayoutVersion { get; }

    /// <summary>The size asked for.</summary>
    public long RequestedSize { get; }
}
