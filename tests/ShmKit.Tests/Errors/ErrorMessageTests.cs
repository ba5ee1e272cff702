using System.Globalization;

namespace ShmKit.Tests.Errors;

/// <summary>
/// Library messages name the C call, the object and what to do, and may point to util-linux (ipcs, ipcrm), but never
/// to shmkit commands: the CLI adds its own hints. A hint must also work for the user who got the error.
/// </summary>
public class ErrorMessageTests
{
    private static void NamesNoCliCommand(Exception e) =>
        Assert.DoesNotContain("shmkit", e.Message, StringComparison.OrdinalIgnoreCase);

    [Fact]
    public void Existing_Missing_Stale_And_Too_Small_Objects_Point_To_Ipcs_And_Ipcrm()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var segment = cleanup.Add(SharedMemorySegment.CreateNew(key, 4096));
        var set = SemaphoreSet.CreateNew(key, [1]);
        cleanup.AddId('s', set.Id);
        var queue = MessageQueue.CreateNew(key);
        cleanup.AddId('q', queue.Id);

        var shmExists = Assert.Throws<IpcObjectExistsException>(() => SharedMemorySegment.CreateNew(key, 4096));
        Assert.Contains($"ipcrm -M {key}", shmExists.Message, StringComparison.Ordinal);
        var semExists = Assert.Throws<IpcObjectExistsException>(() => SemaphoreSet.CreateNew(key, [1]));
        Assert.Contains($"ipcrm -S {key}", semExists.Message, StringComparison.Ordinal);
        var msgExists = Assert.Throws<IpcObjectExistsException>(() => MessageQueue.CreateNew(key));
        Assert.Contains($"ipcrm -Q {key}", msgExists.Message, StringComparison.Ordinal);

        var tooSmall = Assert.Throws<IpcSizeException>(() => SharedMemorySegment.OpenOrCreate(key, 8192));
        Assert.Contains($"ipcrm -M {key}", tooSmall.Message, StringComparison.Ordinal);
        var tooFew = Assert.Throws<IpcSizeException>(() => SemaphoreSet.OpenOrCreate(key, [1, 1]));
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"ipcrm -s {set.Id}"), tooFew.Message, StringComparison.Ordinal);

        var missingKey = cleanup.NewKey();
        var notFound = Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.Open(missingKey));
        Assert.Contains("ipcs -m", notFound.Message, StringComparison.Ordinal);

        var timeout = Assert.Throws<TimeoutException>(() => set.Wait(0, 2, TimeSpan.FromMilliseconds(10)));
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"ipcs -s -i {set.Id}"), timeout.Message, StringComparison.Ordinal);

        segment.Remove();
        var stale = Assert.Throws<IpcObjectRemovedException>(() => segment.Stat());
        var staleById = Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.Remove(segment.Id));
        Assert.Contains("ipcs -m", staleById.Message, StringComparison.Ordinal);
        set.Remove();
        var staleSet = Assert.Throws<IpcObjectRemovedException>(() => set.Release(0));
        queue.Remove();
        var staleQueue = Assert.Throws<IpcObjectRemovedException>(() => queue.TrySend(1, [1]));

        foreach (var e in new Exception[] { shmExists, semExists, msgExists, tooSmall, tooFew, notFound, timeout, stale, staleById, staleSet, staleQueue })
        {
            NamesNoCliCommand(e);
        }
    }

    [Fact]
    public void An_Occupied_Address_Is_Not_Blamed_On_Alignment_And_An_Unaligned_One_Names_SHM_RND()
    {
        using var cleanup = new IpcCleanup();
        var first = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        var second = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        using var taken = first.Attach();
        nint occupied = taken.Address;

        var rounded = Assert.Throws<ArgumentException>(() => second.Attach(occupied + 1, roundAddressHint: true));
        Assert.Equal("addressHint", rounded.ParamName);
        Assert.DoesNotContain("roundAddressHint: true", rounded.Message, StringComparison.Ordinal);
        Assert.Contains("overlap", rounded.Message, StringComparison.Ordinal);
        NamesNoCliCommand(rounded);

        var aligned = Assert.Throws<ArgumentException>(() => second.Attach(occupied));
        Assert.DoesNotContain("roundAddressHint: true", aligned.Message, StringComparison.Ordinal);
        Assert.Contains("overlap", aligned.Message, StringComparison.Ordinal);

        var unaligned = Assert.Throws<ArgumentException>(() => second.AttachReadOnly(occupied + 1));
        Assert.Contains("roundAddressHint: true", unaligned.Message, StringComparison.Ordinal);
        Assert.Contains("not aligned", unaligned.Message, StringComparison.Ordinal);
    }
}
