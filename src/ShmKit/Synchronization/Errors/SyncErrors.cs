using System.Globalization;

namespace ShmKit;

/// <summary>The one place where the Synchronization layer's failures become exceptions, with messages that say what to do.</summary>
internal static class SyncErrors
{
    internal static ShmLockNotRecoverableException NotRecoverable(ShmStructureBinding binding) =>
        new(string.Create(CultureInfo.InvariantCulture,
                $"{Capitalize(binding.Describe())} is not recoverable: a previous owner died holding it, and the process that acquired it next released it without calling MarkConsistent, so the data it guards was never declared consistent. Repair the data, then call ShmMutex.ResetNotRecoverable() (or remove the segment and create it again)."),
            binding.Segment.Key, binding.Segment.Id, binding.Name, binding.Offset);

    /// <summary>A lock wait that ran out, naming the holder and whether it lives.</summary>
    internal static TimeoutException LockTimeout(ShmStructureBinding binding, int observed, TimeSpan? timeout)
    {
        int owner = RobustLockWord.OwnerOf(observed);
        string holder;
        if (owner == 0)
        {
            holder = "it was free at the end, but other waiters took it first";
        }
        else if (owner == binding.Segment.OwnerId)
        {
            holder = "this process holds it (ShmMutex is not recursive: a thread that locks it twice waits for itself)";
        }
        else if (binding.Segment.TryGetOwner(owner, out ManagedSegmentParticipant p))
        {
            holder = string.Create(CultureInfo.InvariantCulture, $"process {p.ProcessId} holds it ({p.Liveness.ToString().ToLowerInvariant()})");
        }
        else
        {
            holder = "its holder's registration is gone";
        }

        return new TimeoutException(string.Create(CultureInfo.InvariantCulture,
            $"Locking {binding.Describe()} timed out{(timeout is { } t ? $" after {t.TotalMilliseconds:0} ms" : string.Empty)}: {holder}."));
    }

    internal static SynchronizationLockException NotHeld(ShmStructureBinding binding) =>
        new($"This holder of {binding.Describe()} no longer holds it (it was disposed).");

    internal static SemaphoreFullException SemaphoreFull(ShmStructureBinding binding, int count, int releaseCount, int maximum) =>
        new(string.Create(CultureInfo.InvariantCulture,
            $"Releasing {releaseCount} unit(s) of {binding.Describe()} would exceed its maximum count of {maximum} (it has {count}); nothing was released. Release only units that were taken."));

    internal static ShmLayoutException BadWord(ShmStructureBinding binding, int bodyOffset, string field, string expected, int found) =>
        ShmErrors.Layout(binding.Segment.Site, binding.Offset + ShmStructureBinding.BodyOffset + bodyOffset, field, expected,
            found.ToString(CultureInfo.InvariantCulture), "Another program wrote the segment's memory, or it is damaged. Remove the segment and create it again.");

    internal static ShmNameConflictException ParameterConflict(ShmStructureBinding binding, string what, string existing, string requested) =>
        new(string.Create(CultureInfo.InvariantCulture,
                $"{Capitalize(binding.Describe())} exists with {what} {existing}; {requested} was asked for. Open it with its own {what}, or use another name."),
            binding.Segment.Key, binding.Segment.Id, binding.Name,
            (binding.Kind, binding.Header.LayoutVersion, ShmStructureBinding.PrimitiveSize), (binding.Kind, binding.Header.LayoutVersion, ShmStructureBinding.PrimitiveSize));

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}
