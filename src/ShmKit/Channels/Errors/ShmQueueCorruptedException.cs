namespace ShmKit;

/// <summary>
/// A queue's shared state is not what the protocol allows: an index that moved backwards or past the other side, a
/// record header with an impossible length or unknown flags, a record that would cross the end of the ring. Another
/// process wrote garbage into the queue (a bug, a hostile peer, or a program that does not speak the layout). The
/// check comes before any use, so nothing outside the ring was read or written and the operation changed nothing;
/// the message names the field, the positions and what was expected. The queue cannot be trusted any more: remove
/// the segment and create it again.
/// </summary>
public sealed class ShmQueueCorruptedException : IpcException
{
    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public ShmQueueCorruptedException(string message)
        : base(message)
    {
        Field = string.Empty;
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public ShmQueueCorruptedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Field = string.Empty;
    }

    /// <summary>Creates an exception that names the field and the positions.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="key">The segment's key, when known.</param>
    /// <param name="id">The segment's id, when known.</param>
    /// <param name="field">The field that failed validation ("tail", "record length", ...).</param>
    /// <param name="offset">The byte offset of that field from the start of the segment.</param>
    /// <param name="position">The ring position the check was about (a record's start, or the index's value).</param>
    /// <param name="head">The consumer position this process knew.</param>
    /// <param name="tail">The producer position this process knew.</param>
    public ShmQueueCorruptedException(string message, IpcKey? key, int? id, string field, long offset, ulong position, ulong head, ulong tail)
        : base(message, IpcObjectKind.SharedMemory, "queue", key, id, 0)
    {
        Field = field;
        Offset = offset;
        Position = position;
        Head = head;
        Tail = tail;
    }

    /// <summary>The field that failed validation.</summary>
    public string Field { get; }

    /// <summary>The byte offset of the field from the start of the segment.</summary>
    public long Offset { get; }

    /// <summary>The ring position (unbounded byte count) the check was about.</summary>
    public ulong Position { get; }

    /// <summary>The consumer position (head) this process knew.</summary>
    public ulong Head { get; }

    /// <summary>The producer position (tail) this process knew.</summary>
    public ulong Tail { get; }
}
