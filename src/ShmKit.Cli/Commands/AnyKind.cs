using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace ShmKit.Cli.Commands;

/// <summary>
/// Objects of any kind named by a key or <c>--id</c>, for the commands that work on all three as ipcrm does
/// (<c>rm</c>, <c>chmod</c>, <c>chown</c>). A key may name one object of each kind, and all of them are meant; an id
/// is numbered per kind, so one that names objects of several kinds needs <c>--kind</c>.
/// </summary>
internal static class AnyKind
{
    private static readonly IpcObjectKind[] s_all = [IpcObjectKind.SharedMemory, IpcObjectKind.SemaphoreSet, IpcObjectKind.MessageQueue];

    /// <summary>The <c>--kind</c> option: shm, sem or msg (null: every kind).</summary>
    internal static Option<IpcObjectKind?> KindOption()
    {
        var option = new Option<IpcObjectKind?>("--kind")
        {
            Description = "Only objects of this kind: shm (segment), sem (semaphore set) or msg (message queue). Needed with --id when the id is in use by more than one kind (each kind numbers its ids separately).",
            HelpName = "shm|sem|msg",
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
                IpcObjectKind? kind = text.ToLowerInvariant() switch
                {
                    "shm" or "m" or "segment" => IpcObjectKind.SharedMemory,
                    "sem" or "s" or "semaphore" => IpcObjectKind.SemaphoreSet,
                    "msg" or "q" or "queue" => IpcObjectKind.MessageQueue,
                    _ => null,
                };
                if (kind is null)
                {
                    result.AddError($"--kind: '{text}' is not a kind: give shm (segment), sem (semaphore set) or msg (message queue).");
                }

                return kind;
            },
        };

        // Completion offers the words the parser takes (not the enum's names).
        option.CompletionSources.Clear();
        option.CompletionSources.Add("shm", "sem", "msg");
        return option;
    }

    /// <summary>What messages call a kind: "shared memory segment", "semaphore set", "message queue".</summary>
    internal static string Name(IpcObjectKind kind) => kind switch
    {
        IpcObjectKind.SharedMemory => "shared memory segment",
        IpcObjectKind.SemaphoreSet => SemSets.ObjectName,
        _ => MsgQueues.ObjectName,
    };

    /// <summary>The kind in JSON: "sharedMemory", "semaphoreSet", "messageQueue" (the property names of <c>list --all --json</c>, singular).</summary>
    internal static string JsonName(IpcObjectKind kind) => kind switch
    {
        IpcObjectKind.SharedMemory => "sharedMemory",
        IpcObjectKind.SemaphoreSet => "semaphoreSet",
        _ => "messageQueue",
    };

    /// <summary>
    /// The objects <paramref name="target"/> names, of <paramref name="only"/> kind or of every kind. Each kind is
    /// tried on its own; a kind that fails for another reason than "not there" (permission denied, say) is returned as
    /// a failure for the caller to report, so one bad object does not hide the others.
    /// </summary>
    /// <exception cref="IpcObjectNotFoundException">Nothing of the kinds asked has this key or id.</exception>
    /// <exception cref="ArgumentException">An id in use by several kinds, without <c>--kind</c>.</exception>
    internal static (IReadOnlyList<AnyObject> Found, IReadOnlyList<Exception> Failures) Find(IpcTarget target, IpcObjectKind? only)
    {
        IpcKey? key = target.Id is null ? target.ParseKey() : null;
        var found = new List<AnyObject>();
        var failures = new List<Exception>();
        foreach (var kind in only is { } k ? [k] : s_all)
        {
            try
            {
                found.Add(key is { } byKey ? OpenByKey(kind, byKey) : OpenById(kind, target.Id!.Value));
            }
            catch (IpcObjectNotFoundException)
            {
            }
            catch (Exception e) when (CliErrors.IsUserError(e))
            {
                failures.Add(e);
            }
        }

        string kinds = only is { } one ? "no " + Name(one) : "no segment, semaphore set or message queue";
        if (found.Count == 0 && failures.Count == 0)
        {
            string hint = target.IsDecimalKey
                ? string.Create(CultureInfo.InvariantCulture, $" (A plain number is a key; to name an object by its id {target.KeyText!.Trim()}, write --id {target.KeyText.Trim()}.)")
                : string.Empty;
            throw new IpcObjectNotFoundException($"{kinds} has {target}.{hint}");
        }

        // An id that some kind could not open for another reason than "not there" is in use by that kind too.
        var inUse = found.Select(o => o.Kind).Concat(failures.Select(FailedKind).OfType<IpcObjectKind>()).Distinct().ToList();
        if (target.Id is int id && only is null && inUse.Count > 1)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"id {id} is in use by a {string.Join(" and a ", inUse.Select(Name))} (each kind numbers its ids separately): say which with --kind shm, sem or msg."));
        }

        return (found, failures);
    }

    /// <summary>
    /// Runs <paramref name="action"/> on every object the command's keys and ids name (<see cref="Find"/>), in order,
    /// carrying on after a failure: each is reported on its own stderr line, as every <c>rm</c> does.
    /// </summary>
    /// <returns>The highest exit code: <see cref="CliErrors.Success"/> when everything succeeded.</returns>
    internal static int ForEach(ParseResult parseResult, KeyOrIdArguments targets, Option<IpcObjectKind?> kind, Action<AnyObject> action)
    {
        int exitCode = CliErrors.Success;
        void Failed(Exception e) => exitCode = Math.Max(exitCode, CliErrors.Report(e));
        foreach (var target in targets.GetTargets(parseResult))
        {
            IReadOnlyList<AnyObject> found;
            IReadOnlyList<Exception> failures;
            try
            {
                (found, failures) = Find(target, parseResult.GetValue(kind));
            }
            catch (Exception e) when (CliErrors.IsUserError(e))
            {
                Failed(e);
                continue;
            }

            foreach (var failure in failures)
            {
                Failed(failure);
            }

            foreach (var o in found)
            {
                try
                {
                    action(o);
                }
                catch (Exception e) when (CliErrors.IsUserError(e))
                {
                    Failed(e);
                }
            }
        }

        return exitCode;
    }

    /// <summary>Writes the objects as a JSON array of <c>{"kind", "id", "key"}</c>.</summary>
    internal static void WriteJsonArray(Utf8JsonWriter writer, IEnumerable<AnyObject> objects)
    {
        writer.WriteStartArray();
        foreach (var o in objects)
        {
            writer.WriteStartObject();
            writer.WriteString("kind", JsonName(o.Kind));
            writer.WriteNumber("id", o.Id);
            writer.WriteString("key", o.Key.ToString());
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static IpcObjectKind? FailedKind(Exception e) => e switch
    {
        IpcException ipc when ipc.Operation.Length > 0 => ipc.Kind,
        IpcAccessDeniedException denied when denied.Operation.Length > 0 => denied.Kind,
        _ => null,
    };

    private static AnyObject OpenByKey(IpcObjectKind kind, IpcKey key) => kind switch
    {
        IpcObjectKind.SharedMemory => AnyObject.Of(SharedMemorySegment.Open(key)),
        IpcObjectKind.SemaphoreSet => AnyObject.Of(SemSets.Open(new IpcTarget(key.ToString(), null))),
        _ => AnyObject.Of(MessageQueue.Open(key)),
    };

    private static AnyObject OpenById(IpcObjectKind kind, int id) => kind switch
    {
        IpcObjectKind.SharedMemory => AnyObject.Of(SharedMemorySegment.OpenById(id)),
        IpcObjectKind.SemaphoreSet => AnyObject.Of(SemaphoreSet.OpenById(id)),
        _ => AnyObject.Of(MessageQueue.OpenById(id)),
    };
}

/// <summary>One object of any kind, with the operations the any-kind commands need.</summary>
/// <param name="Kind">Its kind.</param>
/// <param name="Id">Its id.</param>
/// <param name="Key">Its key.</param>
/// <param name="Remove">Removes it (IPC_RMID).</param>
/// <param name="SetMode">Sets its permission bits (IPC_SET).</param>
/// <param name="SetOwner">Sets its owner and group (IPC_SET).</param>
/// <param name="Stat">Reads its status (IPC_STAT; needs read permission).</param>
internal sealed record AnyObject(IpcObjectKind Kind, int Id, IpcKey Key, Action Remove, Action<UnixFileMode> SetMode, Action<uint, uint> SetOwner, Func<IpcObjectInfo> Stat)
{
    internal static AnyObject Of(SharedMemorySegment s) => new(IpcObjectKind.SharedMemory, s.Id, s.Key, s.Remove, s.SetMode, s.SetOwner, s.Stat);

    internal static AnyObject Of(SemaphoreSet s) => new(IpcObjectKind.SemaphoreSet, s.Id, s.Key, s.Remove, s.SetMode, s.SetOwner, s.Stat);

    internal static AnyObject Of(MessageQueue q) => new(IpcObjectKind.MessageQueue, q.Id, q.Key, q.Remove, q.SetMode, q.SetOwner, q.Stat);

    /// <summary>"shared memory segment id 5 (key 0x1234)", or without the key for a private object.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{AnyKind.Name(Kind)} id {Id}{(Key.IsPrivate ? string.Empty : $" (key {Key})")}");
}
