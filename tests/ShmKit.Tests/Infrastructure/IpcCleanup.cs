using System.Diagnostics;

namespace ShmKit.Tests;

/// <summary>
/// Removes every IPC object a test registers, when the test ends, pass or fail (use with <c>using</c>).
/// Objects that are already gone are ignored. Ids are removed with ipcrm so this works for objects made by
/// C programs and other tools too.
/// </summary>
internal sealed class IpcCleanup : IDisposable
{
    private readonly List<(char Kind, int Id)> _objects = [];
    private readonly List<IpcKey> _keys = [];

    /// <summary>Registers a segment for removal.</summary>
    internal SharedMemorySegment Add(SharedMemorySegment segment)
    {
        _objects.Add(('m', segment.Id));
        return segment;
    }

    /// <summary>Registers an id of kind 'm' (segment), 's' (semaphore set) or 'q' (queue).</summary>
    internal void AddId(char kind, int id) => _objects.Add((kind, id));

    /// <summary>Registers a key: whatever segment, semaphore set or queue has it at the end is removed.</summary>
    internal IpcKey AddKey(IpcKey key)
    {
        _keys.Add(key);
        return key;
    }

    /// <summary>A fresh key that is cleaned up at the end.</summary>
    internal IpcKey NewKey() => AddKey(TestKeys.Next());

    public void Dispose()
    {
        foreach (var (kind, id) in _objects)
        {
            Ipcrm($"-{kind}", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        foreach (var key in _keys)
        {
            foreach (string kind in new[] { "-M", "-S", "-Q" })
            {
                Ipcrm(kind, key.ToString());
            }
        }
    }

    private static void Ipcrm(string flag, string what)
    {
        using var p = Process.Start(new ProcessStartInfo("ipcrm", [flag, what])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        p.WaitForExit(10_000);
    }
}
