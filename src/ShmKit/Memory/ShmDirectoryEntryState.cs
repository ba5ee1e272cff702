namespace ShmKit;

/// <summary>The state of an entry in a <see cref="ManagedSegment"/>'s directory.</summary>
public enum ShmDirectoryEntryState
{
    /// <summary>A process is constructing the structure; its name, kind and size are not published yet.</summary>
    Constructing = 1,

    /// <summary>Constructed and published; its fields never change again.</summary>
    Ready = 2,

    /// <summary>Its constructor failed; the next process that creates a name there reuses the entry (its heap bytes stay unused).</summary>
    Abandoned = 3,
}
