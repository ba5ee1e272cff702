namespace ShmKit;

/// <summary>
/// A snapshot of one entry of a <see cref="ManagedSegment"/>'s directory (from <see cref="ManagedSegment.GetEntries"/>).
/// Only <see cref="ShmDirectoryEntryState.Ready"/> entries have a name, kind, offset and size; the others show only
/// their state.
/// </summary>
/// <param name="Index">The entry's index in the directory.</param>
/// <param name="Name">The structure's name, or null while it is being constructed or after its constructor failed.</param>
/// <param name="Kind">What the structure is.</param>
/// <param name="LayoutVersion">The structure's own layout version.</param>
/// <param name="Offset">Where it starts, from the start of the segment (128-byte aligned).</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="State">Constructing, Ready or Abandoned.</param>
public readonly record struct ManagedSegmentEntry(int Index, string? Name, ShmStructureKind Kind, int LayoutVersion, long Offset, long Size, ShmDirectoryEntryState State);
