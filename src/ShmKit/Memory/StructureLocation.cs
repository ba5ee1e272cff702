namespace ShmKit;

/// <summary>Where a named structure lives in a managed segment: what the find-or-construct API returns to the primitives.</summary>
/// <param name="Offset">Offset of its first byte (its StructureHeader, for kinds that have one) from the segment's start; 128-aligned.</param>
/// <param name="Length">Its size in bytes, as recorded in the directory (validated to lie inside the heap).</param>
/// <param name="WasCreated">True when this call constructed it.</param>
internal readonly record struct StructureLocation(long Offset, long Length, bool WasCreated);

/// <summary>
/// Initializes a structure's freshly allocated, zeroed bytes [offset, offset + length) while its directory entry is
/// claimed by this process. It runs before the entry is published, so no other process can see the bytes yet; it
/// must not block for long (other processes asking for the same name wait for it). Throwing abandons the entry.
/// </summary>
/// <param name="lease">The lease the directory holds for the construction; valid only during the call.</param>
/// <param name="offset">The structure's offset.</param>
/// <param name="length">Its size.</param>
internal delegate void StructureInitializer(in RegionLease lease, long offset, long length);
