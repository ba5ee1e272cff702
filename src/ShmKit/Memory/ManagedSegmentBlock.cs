namespace ShmKit;

/// <summary>
/// User bytes kept by name in a <see cref="ManagedSegment"/> (<see cref="ManagedSegment.OpenOrCreateBlock"/>):
/// where they are. Access them through <see cref="ManagedSegment.Attachment"/> at <see cref="Offset"/>; they start
/// zeroed, 128-byte aligned, and have no header of their own (the directory entry describes them).
/// </summary>
/// <param name="Name">The name.</param>
/// <param name="Offset">Offset of the first byte from the start of the segment (128-byte aligned, the same in every process).</param>
/// <param name="Length">The size in bytes.</param>
/// <param name="WasCreated">True when this call allocated them.</param>
public readonly record struct ManagedSegmentBlock(string Name, long Offset, long Length, bool WasCreated);
