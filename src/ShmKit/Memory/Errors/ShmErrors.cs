using System.Globalization;

namespace ShmKit;

/// <summary>Which managed segment an error is about: enough to name it in a message.</summary>
/// <param name="Key">The key (<see cref="IpcKey.Private"/> for private segments).</param>
/// <param name="Id">The shmid.</param>
internal readonly record struct ShmSite(IpcKey Key, int Id)
{
    internal string Describe() => Key.IsPrivate
        ? string.Create(CultureInfo.InvariantCulture, $"private managed segment id {Id}")
        : string.Create(CultureInfo.InvariantCulture, $"managed segment with key {Key} (id {Id})");

    internal string RemoveHint() => Key.IsPrivate
        ? string.Create(CultureInfo.InvariantCulture, $"`shmkit rm --id {Id}`")
        : $"`shmkit rm {Key}` and `shmkit sem rm {Key}`";
}

/// <summary>
/// The one place where failures of structures in shared memory become exceptions (the Memory/ layer's counterpart
/// of <see cref="IpcErrors"/>). Every message names the segment, the offset, what was expected and found, and what
/// to do.
/// </summary>
internal static class ShmErrors
{
    internal static ShmLayoutException Layout(in ShmSite site, long offset, string field, string expected, string found, string? hint = null) =>
        new(string.Create(CultureInfo.InvariantCulture,
                $"The {site.Describe()} is not a valid ShmKit structure: {field} at offset {offset} is {found}, expected {expected}. {hint ?? $"It was made by another program or another ShmKit version, or it is damaged. Use another key, or remove it ({site.RemoveHint()}) and create it again."}"),
            site.Key, site.Id, offset, field, expected, found);

    internal static ShmLayoutException Layout(in ShmSite site, long offset, string field, long expected, long found, string? hint = null) =>
        Layout(site, offset, field, expected.ToString(CultureInfo.InvariantCulture), found.ToString(CultureInfo.InvariantCulture), hint);

    internal static ShmStructurePoisonedException Poisoned(in ShmSite site, long offset, string what, int creatorPid, string? detail = null) =>
        new(string.Create(CultureInfo.InvariantCulture,
                $"The {what} at offset {offset} of the {site.Describe()} is poisoned: {detail ?? (creatorPid > 0 ? $"its initializer (pid {creatorPid}) died before it was ready" : "its initialization never finished")}, so its contents cannot be trusted. {(offset == 0 ? "ManagedSegment.OpenOrCreate re-initializes it; or remove it (" + site.RemoveHint() + ") and create it again." : "Remove the segment and create it again.")}"),
            site.Key, site.Id, offset, creatorPid);

    internal static ShmStructureNotReadyException NotReady(in ShmSite site, long offset, string what, string state, int initializerPid, TimeSpan? timeout) =>
        new(string.Create(CultureInfo.InvariantCulture,
                $"The {what} at offset {offset} of the {site.Describe()} did not become ready {(timeout is { } t ? $"within {t.TotalMilliseconds:0} ms" : "in time")}: {state}. Wait longer, or check that the process creating it runs."),
            site.Key, site.Id, offset, initializerPid);

    internal static ShmNameConflictException NameConflict(in ShmSite site, string name,
        (ShmStructureKind Kind, int LayoutVersion, long Size) existing, (ShmStructureKind Kind, int LayoutVersion, long Size) requested) =>
        new(string.Create(CultureInfo.InvariantCulture,
                $"The name '{name}' in the {site.Describe()} is a {existing.Kind} (layout version {existing.LayoutVersion}, {existing.Size} bytes); a {requested.Kind} (layout version {requested.LayoutVersion}{(requested.Size > 0 ? $", {requested.Size} bytes" : string.Empty)}) was asked for. Use another name, or open it as what it is."),
            site.Key, site.Id, name, existing, requested);

    internal static ShmCapacityException Capacity(in ShmSite site, ShmCapacityResource resource, long capacity, long inUse, long requested, string? detail = null)
    {
        string what = resource switch
        {
            ShmCapacityResource.Directory => string.Create(CultureInfo.InvariantCulture, $"its directory is full: all {capacity} entries are in use"),
            ShmCapacityResource.Heap => string.Create(CultureInfo.InvariantCulture, $"its heap has {capacity - inUse} of {capacity} bytes free and {requested} bytes (128-byte aligned) were asked"),
            _ => string.Create(CultureInfo.InvariantCulture, $"its participant table is full: all {capacity} slots belong to live processes"),
        };
        string fix = resource switch
        {
            ShmCapacityResource.Directory => "Create the segment with a larger ManagedSegmentOptions.DirectoryCapacity.",
            ShmCapacityResource.Heap => "Create the segment with a larger size.",
            _ => "Close a participant, or create the segment with a larger ManagedSegmentOptions.ParticipantCapacity.",
        };
        return new ShmCapacityException($"The {site.Describe()} is full: {what}{(detail is null ? "." : " (" + detail + ").")} {fix}",
            site.Key, site.Id, resource, capacity, inUse, requested);
    }
}
