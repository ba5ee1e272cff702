namespace ShmKit;

/// <summary>Which part of a <see cref="ManagedSegment"/> a <see cref="ShmCapacityException"/> is about.</summary>
public enum ShmCapacityResource
{
    /// <summary>The directory of named structures (<see cref="ManagedSegmentOptions.DirectoryCapacity"/> entries).</summary>
    Directory,

    /// <summary>The heap the structures are allocated from (the segment's size minus the tables).</summary>
    Heap,

    /// <summary>The participant table (<see cref="ManagedSegmentOptions.ParticipantCapacity"/> slots).</summary>
    ParticipantTable,
}
