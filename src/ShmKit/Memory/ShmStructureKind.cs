namespace ShmKit;

/// <summary>
/// What a ShmKit structure in shared memory is: the <c>kind</c> field of its 64-byte header (offset 6, 16 bits) and
/// of its directory entry. The numbers are part of the on-memory layout and never change meaning.
/// </summary>
public enum ShmStructureKind : ushort
{
    /// <summary>Not a structure (all-zero memory).</summary>
    None = 0,

    /// <summary>A <see cref="ManagedSegment"/>: the header at offset 0 of the segment.</summary>
    ManagedSegment = 1,

    /// <summary>A robust mutex.</summary>
    Mutex = 2,

    /// <summary>A counting semaphore.</summary>
    Semaphore = 3,

    /// <summary>An auto- or manual-reset event.</summary>
    Event = 4,

    /// <summary>A condition variable.</summary>
    ConditionVariable = 5,

    /// <summary>A reader-writer lock.</summary>
    ReaderWriterLock = 6,

    /// <summary>A sequence lock over a small value.</summary>
    SeqLock = 7,

    /// <summary>User bytes kept by name (<see cref="ManagedSegment.OpenOrCreateBlock"/>); they have no header of their own.</summary>
    Block = 8,

    /// <summary>A queue (ShmQueue in Channels/): a ring of variable-length messages (docs/CHANNELS.md).</summary>
    Queue = 16,
}
