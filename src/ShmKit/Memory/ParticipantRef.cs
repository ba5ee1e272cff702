namespace ShmKit;

/// <summary>
/// One registration in a managed segment's participant table: the slot and the generation it was claimed with.
/// <see cref="OwnerId"/> is the 28-bit id that lock words and directory entries store (DESIGN-8): slot + 1 in bits
/// 0..15, the generation's low 12 bits in bits 16..27; never 0.
/// </summary>
/// <param name="Slot">The slot index, 0..capacity-1 (also the liveness token's semaphore number).</param>
/// <param name="Generation">The slot's generation for this registration (incremented on every claim).</param>
internal readonly record struct ParticipantRef(int Slot, uint Generation)
{
    /// <summary>Bits 0..27 of a lock word; a slot + 1 of 0 (owner id 0) means "no owner".</summary>
    internal const int OwnerIdMask = 0x0FFF_FFFF;

    internal int OwnerId => (int)((Generation & 0xFFF) << 16) | (Slot + 1);

    /// <summary>The slot an owner id names (-1 for 0), without checking it against a capacity.</summary>
    internal static int SlotOf(int ownerId) => (ownerId & 0xFFFF) - 1;

    /// <summary>The generation bits an owner id carries.</summary>
    internal static uint GenerationBitsOf(int ownerId) => (uint)(ownerId >> 16) & 0xFFF;
}
