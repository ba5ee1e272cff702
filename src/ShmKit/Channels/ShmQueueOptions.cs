using System.Globalization;

namespace ShmKit;

/// <summary>How a <see cref="ShmQueue"/> is laid out when it is created. Ignored (except for the checks) when it exists.</summary>
public sealed class ShmQueueOptions
{
    /// <summary>The default ring size: 1 MiB.</summary>
    public const long DefaultCapacity = 1 << 20;

    /// <summary>The smallest ring: 4 KiB.</summary>
    public const long MinCapacity = 4096;

    /// <summary>The largest ring: 1 GiB.</summary>
    public const long MaxCapacity = 1L << 30;

    internal static ShmQueueOptions Default { get; } = new();

    /// <summary>
    /// Bytes of the ring: a power of two from <see cref="MinCapacity"/> to <see cref="MaxCapacity"/>. Each message
    /// takes its length plus an 8-byte (SPSC) or 16-byte (MPMC) header, rounded up to 8 (16) bytes. Default 1 MiB.
    /// </summary>
    public long Capacity { get; init; } = DefaultCapacity;

    /// <summary>Single-producer/single-consumer (default) or multi-producer/multi-consumer.</summary>
    public ShmQueueMode Mode { get; init; } = ShmQueueMode.SingleProducerSingleConsumer;

    /// <summary>
    /// The longest message, in bytes: at most (and by default) half the capacity minus the record header, which is
    /// what an empty ring can always take wherever the wrap falls. A longer message is an
    /// <see cref="ArgumentOutOfRangeException"/> before anything is written.
    /// </summary>
    public int MaxMessageLength { get; init; }

    /// <summary>
    /// For a queue in a segment of its own (<see cref="ShmQueue.Create(IpcKey, ShmQueueOptions?)"/>): the
    /// permission bits of the segment and its token set; default 0600 (owner only). Ignored for a queue in a
    /// <see cref="ManagedSegment"/> (the segment's own mode applies).
    /// </summary>
    public UnixFileMode Permissions { get; init; } = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// For a queue in a segment of its own: how many processes may have it open at once (participant slots; dead
    /// ones are reclaimed). Default 64. Ignored for a queue in a <see cref="ManagedSegment"/>.
    /// </summary>
    public int ParticipantCapacity { get; init; } = ManagedSegmentOptions.DefaultParticipantCapacity;

    /// <summary>The record header size for a mode.</summary>
    internal static int HeaderSizeOf(ShmQueueMode mode) => mode == ShmQueueMode.SingleProducerSingleConsumer ? QueueLayout.SpscHeaderSize : QueueLayout.MpmcHeaderSize;

    /// <summary>The largest message an empty ring of this capacity always takes.</summary>
    internal static int LargestMessage(long capacity, ShmQueueMode mode) => (int)Math.Min(int.MaxValue, (capacity / 2) - HeaderSizeOf(mode));

    /// <summary>Checks the options and returns the effective maximum message length.</summary>
    internal int Validate()
    {
        if (Capacity < MinCapacity || Capacity > MaxCapacity || (Capacity & (Capacity - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Capacity), Capacity, string.Create(CultureInfo.InvariantCulture,
                $"A queue's capacity is a power of two from {MinCapacity} to {MaxCapacity} bytes."));
        }

        if (!Enum.IsDefined(Mode))
        {
            throw new ArgumentOutOfRangeException(nameof(Mode), Mode, "Unknown queue mode.");
        }

        int largest = LargestMessage(Capacity, Mode);
        if (MaxMessageLength < 0 || MaxMessageLength > largest)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxMessageLength), MaxMessageLength, string.Create(CultureInfo.InvariantCulture,
                $"A queue of {Capacity} bytes takes messages of at most {largest} bytes (half the ring minus the record header); 0 means that much."));
        }

        if (ParticipantCapacity is < 1 or > 4095)
        {
            throw new ArgumentOutOfRangeException(nameof(ParticipantCapacity), ParticipantCapacity, "The participant capacity must be 1..4095.");
        }

        return MaxMessageLength == 0 ? largest : MaxMessageLength;
    }
}
