namespace ShmKit;

/// <summary>
/// The bump allocator of a <see cref="ManagedSegment"/>'s heap: <c>heapNext</c> (control block offset 64) moves
/// forward by 128-byte aligned sizes with a CAS loop, and nothing is ever freed (structures live as long as the
/// segment; a dead constructor's bytes stay unused). Bounds: every value read is checked to be 128-aligned within
/// [heapStart, heapEnd], and every failed CAS must have moved heapNext forward by at least 128 bytes (else the
/// segment is damaged), so the loop ends after at most (heapEnd - heapStart) / 128 + 1 steps.
/// </summary>
internal sealed class HeapAllocator
{
    private readonly MappedRegion _region;
    private readonly ShmSite _site;

    internal HeapAllocator(MappedRegion region, long heapStart, long heapEnd, in ShmSite site)
    {
        _region = region;
        HeapStart = heapStart;
        HeapEnd = heapEnd;
        _site = site;
    }

    internal long HeapStart { get; }

    internal long HeapEnd { get; }

    internal long Capacity => HeapEnd - HeapStart;

    /// <summary>Bytes handed out so far (Volatile.Read of heapNext).</summary>
    internal long Used
    {
        get
        {
            using RegionLease lease = _region.Acquire();
            long next = Volatile.Read(ref lease.Ref<long>(ManagedSegmentLayout.HeapNextOffset));
            ManagedSegmentLayout.CheckHeapNext(_site, next, HeapStart, HeapEnd);
            return next - HeapStart;
        }
    }

    /// <summary>Allocates <paramref name="size"/> bytes (rounded up to 128) and returns their offset.</summary>
    /// <exception cref="ShmCapacityException">Not enough room left.</exception>
    internal long Allocate(in RegionLease lease, long size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        if (size > Capacity)
        {
            throw ShmErrors.Capacity(_site, ShmCapacityResource.Heap, Capacity, Used, size);
        }

        long aligned = ManagedSegmentLayout.AlignUp(size);
        ref long heapNext = ref lease.Ref<long>(ManagedSegmentLayout.HeapNextOffset);
        long next = Volatile.Read(ref heapNext);
        while (true)
        {
            ManagedSegmentLayout.CheckHeapNext(_site, next, HeapStart, HeapEnd);
            if (aligned > HeapEnd - next)
            {
                throw ShmErrors.Capacity(_site, ShmCapacityResource.Heap, Capacity, next - HeapStart, aligned);
            }

            long seen = Interlocked.CompareExchange(ref heapNext, next + aligned, next);
            if (seen == next)
            {
                return next;
            }

            if (seen < next + ManagedSegmentLayout.HeapAlignment)
            {
                throw ShmErrors.Layout(_site, ManagedSegmentLayout.HeapNextOffset, "heapNext",
                    "a value that only grows", seen.ToString(System.Globalization.CultureInfo.InvariantCulture) + " after " + next.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            next = seen;
        }
    }
}
