using System.CommandLine;
using System.Globalization;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit msg recv</c>: receives one message (msgrcv) and prints its payload: raw to stdout by default (exactly
/// the bytes, nothing else, so it can be redirected to a file), or as hex, as text, or into a file. The type is
/// printed only with <c>--show-type</c>: first on stdout, then a tab, then the payload.
/// </summary>
/// <remarks>
/// A received message is gone from the queue, so the order is: open and check the output (<see cref="PayloadOutput.Open"/>),
/// receive into a buffer, write, and only then succeed. A write that still fails (a full disk, a reader that went away)
/// says that the message was received and lost. The wait blocks in the kernel without polling (<see cref="CliWait"/>).
/// </remarks>
internal static class MsgReceiveCommand
{
    private const string NothingDone = "so the message was not received (the queue is as it was)";

    internal static Command Create()
    {
        var type = CliParsing.IntegerOption("--type",
            "Which message: 0 (default) the first in the queue; N > 0 the first of type N; -N the first of the lowest type up to N (a priority queue). Decimal or 0x hex.",
            long.MinValue + 1, long.MaxValue);
        var except = new Option<bool>("--except") { Description = "With --type N > 0: the first message whose type is NOT N (MSG_EXCEPT)." };
        var truncate = new Option<bool>("--truncate") { Description = "Receive a message longer than --max-bytes cut to that length (MSG_NOERROR; the rest is lost). Without it such a message stays in the queue and shmkit exits 7." };
        var maxBytes = CliParsing.ByteCountOption("--max-bytes", "The longest payload to accept (default: msgmax, which fits every message).", minimum: 0);
        var timeout = CliParsing.DurationOption("--timeout", "Give up after this long without a matching message (500ms, 5s, 2m; a bare number is seconds): exit 6 with a message. Default: wait for one (Ctrl+C stops). Waiting costs no CPU.");
        var noWait = new Option<bool>("--nowait") { Description = "Do not wait (IPC_NOWAIT): if no message matches now, exit 6." };
        var showType = new Option<bool>("--show-type") { Description = "Print the message's type first, then a tab, then the payload (for scripts: IFS=$'\\t' read -r type text). With --out the type is in the line printed." };
        var command = new Command("recv", "Receive one message (msgrcv) and print its payload: raw bytes by default, or --hex, --text, --out FILE. The type is printed only with --show-type. The output is checked before the message is taken: a message is never lost to an output that cannot be written.")
        {
            type, except, truncate, maxBytes, timeout, noWait, showType,
        };
        var output = PayloadOutput.Add(command, textStopsAtNul: false);
        var target = CliParsing.AddKeyOrId(command, MsgQueues.ObjectName);
        command.Validators.Add(result =>
        {
            if (result.GetValue(except) && CliParsing.TryGetValue(result, type, out long selector) && selector <= 0)
            {
                result.AddError("--except needs --type N with N > 0 (the type to skip)");
            }

            if (result.GetValue(noWait) && result.GetResult(timeout) is not null)
            {
                result.AddError("give --nowait or --timeout, not both (--nowait never waits)");
            }
        });

        command.SetAction(parseResult =>
        {
            var queue = MsgQueues.Open(target.GetTarget(parseResult));
            long selector = parseResult.GetValue(type);
            var options = (parseResult.GetValue(except) ? MessageReceiveOptions.ExceptType : MessageReceiveOptions.None)
                | (parseResult.GetValue(truncate) ? MessageReceiveOptions.Truncate : MessageReceiveOptions.None);

            // No message is longer than msgmax was when it was sent, nor than the queue's capacity: a larger --max-bytes
            // would only waste memory. (The capacity needs read permission; msgmax alone fits every message too.)
            long largest = Math.Max(MessageQueue.GetLimits().MaxMessageSize, QueueCapacity(queue));
            long limit = parseResult.GetResult(maxBytes) is null ? largest : Math.Min(parseResult.GetValue(maxBytes), largest);
            byte[] buffer = new byte[(int)Math.Min(limit, Array.MaxLength)];

            // Before anything irreversible: where the payload goes must be able to take it.
            using var sink = output.Open(parseResult, buffer.Length, NothingDone);

            int length;
            long messageType;
            if (parseResult.GetValue(noWait))
            {
                if (!queue.TryReceive(buffer, out length, out messageType, selector, options))
                {
                    throw new CliException(string.Create(CultureInfo.InvariantCulture,
                        $"no message {DescribeSelector(selector, options)} is in the {MsgQueues.ObjectName} with id {queue.Id}, and --nowait says not to wait. Leave out --nowait to wait, or give --timeout."), CliErrors.Timeout);
                }
            }
            else
            {
                var wait = parseResult.GetValue(timeout);
                (length, messageType) = CliWait.Run(
                    () => (queue.Receive(buffer, out long t, selector, options), t),
                    wait,
                    () => CliWait.TimedOut("msgrcv", wait.GetValueOrDefault(), $"no message {DescribeSelector(selector, options)} arrived in the {MsgQueues.ObjectName} with id {queue.Id}. Wait longer, or check that the sender runs"),
                    "nothing was received (the queue is as it was)");
            }

            // The message has left the queue: from here on, a failure loses it, and says so.
            try
            {
                sink.Write(
                    parseResult.GetValue(showType) ? messageType.ToString(CultureInfo.InvariantCulture) + "\t" : null,
                    action => action(buffer.AsSpan(0, length)));
                sink.Commit();
            }
            catch (IOException e)
            {
                throw new CliException(string.Create(CultureInfo.InvariantCulture,
                    $"the message ({length} bytes of type {messageType}) was received from the {MsgQueues.ObjectName} with id {queue.Id}, so it is no longer there, and is lost: writing it to {sink.Name} failed: {e.Message.TrimEnd('.')}."), CliErrors.Failure, e);
            }

            if (sink.FilePath is { } path)
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {length} bytes (a message of type {messageType}) from {MsgQueues.ObjectName} id {queue.Id} to {path}"));
            }

            return CliErrors.Success;
        });
        return command;
    }

    /// <summary>The queue's capacity (msg_qbytes), or 0 when this user may receive but not read the queue's status.</summary>
    private static long QueueCapacity(MessageQueue queue)
    {
        try
        {
            return queue.Stat().MaxBytes;
        }
        catch (Exception e) when (e is IpcException or IpcAccessDeniedException)
        {
            return 0;
        }
    }

    private static string DescribeSelector(long selector, MessageReceiveOptions options) => selector switch
    {
        0 => "of any type",
        > 0 when (options & MessageReceiveOptions.ExceptType) != 0 => string.Create(CultureInfo.InvariantCulture, $"of a type other than {selector}"),
        > 0 => string.Create(CultureInfo.InvariantCulture, $"of type {selector}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"of type {-selector} or lower"),
    };
}
