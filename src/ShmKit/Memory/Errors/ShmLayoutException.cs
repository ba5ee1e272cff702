namespace ShmKit;

/// <summary>
/// Bytes in shared memory are not the ShmKit structure they should be: a wrong magic number (not a ShmKit structure
/// at all), another layout version, another kind, a size that does not fit the segment, a bad checksum, or garbage in
/// the control block, the participant table or the directory. Nothing was changed; the message says what was
/// expected and what was found at which offset. Usually the key names a segment made by another program or another
/// ShmKit version: pick another key, or remove the segment and create it again.
/// </summary>
public sealed class ShmLayoutException : IpcException
{
    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public ShmLayoutException(string message)
        : base(message)
    {
        Field = Expected = Found = string.Empty;
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public ShmLayoutException(string message, Exception innerException)
        : base(message, innerException)
    {
        Field = Expected = Found = string.Empty;
    }

    /// <summary>Creates an exception that names the field, what was expected and what was found.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="key">The segment's key, when known.</param>
    /// <param name="id">The segment's id, when known.</param>
    /// <param name="offset">The byte offset of the bad field from the start of the segment.</param>
    /// <param name="field">The field, for example "magic" or "directory entry 3 offset".</param>
    /// <param name="expected">What a valid structure holds there.</param>
    /// <param name="found">What the segment holds.</param>
    public ShmLayoutException(string message, IpcKey? key, int? id, long offset, string field, string expected, string found)
        : base(message, IpcObjectKind.SharedMemory, "validate", key, id, 0)
    {
        Offset = offset;
        Field = field;
        Expected = expected;
        Found = found;
    }

    /// <summary>The byte offset of the bad field from the start of the segment, when known.</summary>
    public long? Offset { get; }

    /// <summary>The field that did not match, for example "magic", "layoutVersion", "kind", "totalSize".</summary>
    public string Field { get; }

    /// <summary>What a valid structure holds there.</summary>
    public string Expected { get; }

    /// <summary>What the segment holds.</summary>
    public string Found { get; }
}
