using System.Globalization;

namespace ShmKit.Tests;

/// <summary>
/// The scoreboard of the cross-process queue tests: a private System V segment (not a queue) where producers record
/// how far they committed and consumers count every delivery of every (producer, sequence), so the parent can check
/// that nothing was lost, duplicated or delivered half-written. Shared by the tests and the child program.
/// </summary>
/// <remarks>
/// Layout: 0 producersStop (int), 4 consumersStop (int), 8 errors (int), 16 delivered (long), 24 maxProducers,
/// 28 perProducer, 32 maxChildren (ints); 64: committed[maxProducers] (long: sequences 0..n-1 are committed);
/// then progress[maxChildren] (long: operations done by each child, so the parent kills only working ones);
/// then deliveries[maxProducers × perProducer] (int: +1 per normal delivery, +0x10000 per redelivery). Every
/// field is written with Volatile or Interlocked and read with Volatile.
/// </remarks>
internal sealed unsafe class QueueResults : IDisposable
{
    public const int Redelivered = 0x10000;

    private readonly SharedMemoryAttachment _attachment;
    private readonly byte* _base;

    private QueueResults(SharedMemorySegment segment)
    {
        Segment = segment;
        _attachment = segment.Attach();
        _base = (byte*)_attachment.Address;
        MaxProducers = *(int*)(_base + 24);
        PerProducer = *(int*)(_base + 28);
        MaxChildren = *(int*)(_base + 32);
    }

    public SharedMemorySegment Segment { get; }

    public int MaxProducers { get; }

    public int PerProducer { get; }

    public int MaxChildren { get; }

    public ref int ProducersStop => ref *(int*)_base;

    public ref int ConsumersStop => ref *(int*)(_base + 4);

    public ref int Errors => ref *(int*)(_base + 8);

    public ref long Delivered => ref *(long*)(_base + 16);

    public static QueueResults Create(int maxProducers, int perProducer, int maxChildren)
    {
        long size = 64 + (8L * maxProducers) + (8L * maxChildren) + (4L * maxProducers * perProducer);
        var segment = SharedMemorySegment.CreatePrivate(size);
        using (var attachment = segment.Attach())
        {
            attachment.Write(24, maxProducers);
            attachment.Write(28, perProducer);
            attachment.Write(32, maxChildren);
        }

        return new QueueResults(segment);
    }

    public static QueueResults Open(string id) => new(SharedMemorySegment.OpenById(int.Parse(id, CultureInfo.InvariantCulture)));

    public ref long Committed(int producer) => ref *(long*)(_base + 64 + (8L * Check(producer, MaxProducers)));

    public ref long Progress(int child) => ref *(long*)(_base + 64 + (8L * MaxProducers) + (8L * Check(child, MaxChildren)));

    public ref int Deliveries(int producer, long sequence)
    {
        if ((ulong)sequence >= (ulong)PerProducer)
        {
            throw new InvalidDataException($"sequence {sequence} of producer {producer} is beyond the {PerProducer} any producer sends");
        }

        return ref *(int*)(_base + 64 + (8L * MaxProducers) + (8L * MaxChildren) + (4L * ((Check(producer, MaxProducers) * (long)PerProducer) + sequence)));
    }

    public void Dispose() => _attachment.Dispose();

    private static int Check(int index, int count) =>
        (uint)index < (uint)count ? index : throw new InvalidDataException($"index {index} is outside 0..{count - 1}");
}
