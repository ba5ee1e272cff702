using System.Globalization;

namespace ShmKit;

/// <summary>What a failed call was about: enough to write a message a person can act on.</summary>
/// <param name="Kind">The family of object.</param>
/// <param name="Operation">The C call, for example "shmget".</param>
/// <param name="Key">The key, when the call named one.</param>
/// <param name="Id">The id, when the call named one.</param>
internal readonly record struct IpcCall(IpcObjectKind Kind, string Operation, IpcKey? Key = null, int? Id = null)
{
    /// <summary>The same object, another call.</summary>
    internal IpcCall For(string operation) => this with { Operation = operation };

    internal string Describe()
    {
        string what = Kind switch
        {
            IpcObjectKind.SharedMemory => "shared memory segment",
            IpcObjectKind.SemaphoreSet => "semaphore set",
            _ => "message queue",
        };
        if (Key is { IsPrivate: false } key && Id is int id)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{what} with key {key} (id {id})");
        }

        if (Key is { IsPrivate: false } k)
        {
            return $"{what} with key {k}";
        }

        if (Id is int i)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{what} with id {i}");
        }

        return Key is { IsPrivate: true } ? $"private {what}" : what;
    }

    /// <summary>
    /// util-linux's listing of this kind (<c>ipcs -m</c>, <c>ipcs -s</c>, <c>ipcs -q</c>). It reads /proc/sysvipc, so
    /// it works for every user and shows every object's owner and mode, even one this user may not read.
    /// </summary>
    internal string ListCommand() => "ipcs " + KindOption(upperCase: false);

    /// <summary>
    /// util-linux's removal of this object: <c>ipcrm -M key</c> (by key) when the call named a key, else
    /// <c>ipcrm -m id</c>; <paramref name="id"/> overrides the call's id.
    /// </summary>
    internal string RemoveCommand(int? id = null)
    {
        if (id is null && Key is { IsPrivate: false } key)
        {
            return $"ipcrm {KindOption(upperCase: true)} {key}";
        }

        return (id ?? Id) is int i
            ? string.Create(CultureInfo.InvariantCulture, $"ipcrm {KindOption(upperCase: false)} {i}")
            : "ipcrm";
    }

    private string KindOption(bool upperCase) => (Kind, upperCase) switch
    {
        (IpcObjectKind.SharedMemory, false) => "-m",
        (IpcObjectKind.SharedMemory, true) => "-M",
        (IpcObjectKind.SemaphoreSet, false) => "-s",
        (IpcObjectKind.SemaphoreSet, true) => "-S",
        (_, false) => "-q",
        _ => "-Q",
    };
}
