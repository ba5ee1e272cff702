using System.CommandLine;

namespace ShmKit.Cli;

/// <summary>One example of a command: the command line and what it does.</summary>
/// <param name="CommandLine">The command line, starting with <c>shmkit</c>; it parses (a test checks every one).</param>
/// <param name="Explanation">What it does, in a few words.</param>
internal sealed record CliExample(string CommandLine, string Explanation);

/// <summary>
/// The examples shown under "Examples:" in each command's <c>--help</c> and in the man page (<see cref="CliManPage"/>),
/// one or two a command, by command path. Every visible command has some and every one parses (CliHelpTests): a new
/// command adds its examples here.
/// </summary>
internal static class CliExamples
{
    private static readonly Dictionary<string, CliExample[]> s_examples = new(StringComparer.Ordinal)
    {
        [""] =
        [
            new("shmkit list --all", "every segment, semaphore set and message queue on the host (ipcs -a)"),
            new("shmkit create --size 1MiB --key 0x1234", "a 1 MiB segment, mode 0600; prints its id and key"),
            new("shmkit demo", "two processes share a table through a segment and a semaphore set"),
        ],
        ["list"] =
        [
            new("shmkit list", "the shared memory segments, like ipcs -m"),
            new("shmkit list --all --json", "all three kinds as one JSON object, for scripts"),
        ],
        ["create"] =
        [
            new("shmkit create --size 1MiB --key 0x1234", "create (or open) the segment with key 0x1234, mode 0600"),
            new("shmkit create --size 64KiB --key 0x1234 --exclusive --mode 0640", "fail with exit code 5 if it exists; group may read"),
        ],
        ["info"] =
        [
            new("shmkit info 0x1234", "size, owner, mode, attach count, pids and times of the segment"),
            new("shmkit info --id 32768 --json", "the same by id, as JSON"),
        ],
        ["limits"] =
        [
            new("shmkit limits", "shmmax, shmmni, semmsl, msgmax... and how much of each is in use"),
            new("shmkit limits --json", "the same as exact integers, for scripts"),
        ],
        ["write"] =
        [
            new("shmkit write 0x1234 --offset 4096 --text hello", "write 5 bytes at offset 4096; nothing else changes"),
            new("shmkit write 0x1234 --hex \"de ad be ef\"", "write 4 bytes at offset 0 (stdin when no --text, --hex or --file)"),
        ],
        ["read"] =
        [
            new("shmkit read 0x1234 --offset 4096 --length 5", "the raw bytes, to stdout"),
            new("shmkit read 0x1234 > segment.bin", "the whole segment into a file"),
        ],
        ["dump"] =
        [
            new("shmkit dump 0x1234 --offset 4096 --length 64", "64 bytes, in the format of hexdump -C"),
        ],
        ["rm"] =
        [
            new("shmkit rm 0x1234 0x5678", "remove every object (any kind) with these keys, like ipcrm"),
            new("shmkit rm --id 32768 --kind sem", "remove the semaphore set with id 32768"),
        ],
        ["chmod"] =
        [
            new("shmkit chmod 0640 0x1234", "owner read/write, group read, for every object with key 0x1234"),
        ],
        ["chown"] =
        [
            new("shmkit chown nobody:nogroup 0x1234", "give the objects with key 0x1234 to another user and group"),
        ],
        ["sem"] =
        [
            new("shmkit sem create --key 0x5678 --values 1,0", "a set of two semaphores, values 1 and 0"),
            new("shmkit sem op 0x5678 --delta -1 --timeout 5s", "acquire semaphore 0, waiting at most 5 s"),
        ],
        ["sem create"] =
        [
            new("shmkit sem create --key 0x5678 --values 1,0", "a set of two semaphores, values 1 and 0, mode 0600"),
            new("shmkit sem create --key 0x5678 --count 4", "four semaphores, all 0"),
        ],
        ["sem list"] =
        [
            new("shmkit sem list", "the semaphore sets, like ipcs -s"),
        ],
        ["sem info"] =
        [
            new("shmkit sem info 0x5678", "each semaphore's value, last pid and waiters"),
        ],
        ["sem op"] =
        [
            new("shmkit sem op 0x5678 --delta -1 --timeout 5s", "acquire (wait until it can subtract 1), at most 5 s"),
            new("shmkit sem op 0x5678 --index 1 --delta 1", "release semaphore 1 (never waits)"),
        ],
        ["sem set"] =
        [
            new("shmkit sem set 0x5678 --index 0 --value 1", "set one value (waiters that can go on wake up)"),
            new("shmkit sem set 0x5678 --values 1,0", "set all values at once"),
        ],
        ["sem rm"] =
        [
            new("shmkit sem rm 0x5678", "remove the set; its waiters wake with an error"),
        ],
        ["msg"] =
        [
            new("shmkit msg send 0x9abc --type 2 --text hello", "send one message of type 2"),
            new("shmkit msg recv 0x9abc --text --show-type", "receive the first message: prints 2<TAB>hello"),
        ],
        ["msg create"] =
        [
            new("shmkit msg create --key 0x9abc", "a message queue, mode 0600, like ipcmk -Q"),
        ],
        ["msg list"] =
        [
            new("shmkit msg list --json", "the message queues, as JSON"),
        ],
        ["msg info"] =
        [
            new("shmkit msg info 0x9abc", "messages, bytes, limits, last sender and receiver of the queue"),
        ],
        ["msg send"] =
        [
            new("shmkit msg send 0x9abc --type 2 --text hello", "send one message of type 2 (waits while the queue is full)"),
            new("shmkit msg send 0x9abc --file request.bin --timeout 5s", "the payload from a file; give up after 5 s"),
        ],
        ["msg recv"] =
        [
            new("shmkit msg recv 0x9abc --text --show-type", "the first message: prints 2<TAB>hello"),
            new("shmkit msg recv 0x9abc --type 2 --out reply.bin --timeout 5s", "the first message of type 2, into a file"),
        ],
        ["msg rm"] =
        [
            new("shmkit msg rm 0x9abc", "remove the queue and its messages"),
        ],
        ["demo"] =
        [
            new("shmkit demo", "a server and a client process share a table; prints a transcript and a verdict"),
            new("shmkit demo --records 100000 --updates 10", "a bigger table, more updates"),
        ],
        ["demo server"] =
        [
            new("shmkit demo server", "the server half; run `shmkit demo client` in another terminal"),
        ],
        ["demo client"] =
        [
            new("shmkit demo client", "the client half; waits for the server"),
        ],
        ["completion"] =
        [
            new("source <(shmkit completion bash)", "completion in this bash (put it in ~/.bashrc to keep it)"),
            new("shmkit completion fish > ~/.config/fish/completions/shmkit.fish", "completion in every new fish"),
        ],
    };

    /// <summary>The examples of <paramref name="command"/> (none for hidden commands).</summary>
    internal static IReadOnlyList<CliExample> For(Command command) =>
        s_examples.TryGetValue(PathOf(command), out var examples) ? examples : [];

    /// <summary>Every command path that has examples: "" for shmkit itself, "sem op" for <c>shmkit sem op</c>.</summary>
    internal static IEnumerable<string> Paths => s_examples.Keys;

    /// <summary>The command's path below the root, words separated by spaces ("" for the root).</summary>
    internal static string PathOf(Command command)
    {
        var names = new List<string>();
        for (Command? c = command; c?.Parents.OfType<Command>().FirstOrDefault() is { } parent; c = parent)
        {
            names.Insert(0, c.Name);
        }

        return string.Join(' ', names);
    }
}
