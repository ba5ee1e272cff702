using System.Globalization;

namespace ShmKit;

/// <summary>How a <see cref="ManagedSegment"/> is laid out when it is created. Ignored when an existing one is opened.</summary>
public sealed class ManagedSegmentOptions
{
    /// <summary>The default number of participant slots.</summary>
    public const int DefaultParticipantCapacity = 64;

    /// <summary>The default number of directory entries.</summary>
    public const int DefaultDirectoryCapacity = 64;

    internal static ManagedSegmentOptions Default { get; } = new();

    /// <summary>
    /// How many processes may be registered at once (1..4095, and less than the host's semmsl, since each gets one
    /// SEM_UNDO liveness token in the segment's semaphore set, which has one more for its initializer). Dead processes'
    /// slots are reclaimed. Default 64.
    /// </summary>
    public int ParticipantCapacity { get; init; } = DefaultParticipantCapacity;

    /// <summary>How many named structures the directory holds (1..65535); entries are never freed. Default 64.</summary>
    public int DirectoryCapacity { get; init; } = DefaultDirectoryCapacity;

    /// <summary>Permission bits of the segment and of its token set; default 0600 (owner read and write).</summary>
    public UnixFileMode Mode { get; init; } = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Test hook: runs after the header is claimed and the token set exists, before anything is published.</summary>
    internal Action? AfterInitializationClaimed { get; init; }

    internal void Validate()
    {
        if (ParticipantCapacity is < 1 or > ManagedSegmentLayout.MaxParticipants)
        {
            throw new ArgumentOutOfRangeException(nameof(ParticipantCapacity), ParticipantCapacity,
                string.Create(CultureInfo.InvariantCulture, $"The participant capacity must be 1..{ManagedSegmentLayout.MaxParticipants}."));
        }

        if (DirectoryCapacity is < 1 or > ManagedSegmentLayout.MaxDirectoryEntries)
        {
            throw new ArgumentOutOfRangeException(nameof(DirectoryCapacity), DirectoryCapacity,
                string.Create(CultureInfo.InvariantCulture, $"The directory capacity must be 1..{ManagedSegmentLayout.MaxDirectoryEntries}."));
        }
    }
}
