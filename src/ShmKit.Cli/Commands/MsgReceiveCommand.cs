using System.CommandLine;
using System.Globalization;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit msg recv</c>: receives one message (msgrcv) and prints its payload: raw to stdout by default (exactly
/// the bytes, nothing else, so it can be redirected to a file), or as hex, as text, or into a file. The type is
/// printed only with <c>--show-type</c>: first on stdout, then a tab, then the payload.
/// </summary>
internal static class MsgReceiveCommand
{
    internal static Command Create()
    {
        var type = new Option<long>("--type")
        {
            Description = "Which message: 0 (default) the first in the queue; N > 0 the first of type N; -N the first of the lowest type up to N (a priority queue).",
            HelpName = "n",
        };
        var except = new Option<bool>("--except") { Description = "With --type N > 0: the first message whose type is NOT N (MSG_EXCEPT)." };
        var truncate = new Option<bool>("--truncate") { Description = "Receive a message longer than --max-bytes cut to that length (MSG_NOERROR; the rest is lost). Without it such a message stays in the queue and shmkit exits 1." };
        var maxBytes = CliParsing.ByteCountOption("--max-bytes", "The longest payload to accept (default: msgmax, which fits every message).", minimum: 0);
        var timeout = CliParsing.DurationOption("--timeout", "Give up after this long without a matching message (500ms, 5s, 2m; a bare number is seconds): exit 1 with a message. Default: wait for one (Ctrl+C stops).");
        var noWait = new Option<bool>("--nowait") { Description = "Do not wait (IPC_NOWAIT): if no message matches now, exit 1." };
        var showType = new Option<bool>("--show-type") { Description = "Print the message's type first, then a tab, then the payload (for scripts: IFS=$'\\t' read -r type text). With --out the type is in the line printed." };
        var command = new Command("recv", "Receive one message (msgrcv) and print its payload: raw bytes by default, or --hex, --text, --out FILE. The type is printed only with --show-type.")
        {
            type, except, truncate, maxBytes, timeout, noWait, showType,
        };
        var output = PayloadOutput.Add(command);
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

        command.SetAction((parseResult, cancellationToken) =>
        {
            var queue = MsgQueues.Open(target.GetTarget(parseResult));
            long selector = parseResult.GetValue(type);
            var options = (parseResult.GetValue(except) ? MessageReceiveOptions.ExceptType : MessageReceiveOptions.None)
                | (parseResult.GetValue(truncate) ? MessageReceiveOptions.Truncate : MessageReceiveOptions.None);
            // No message is longer than msgmax was when it was sent, nor than the queue's capacity: a larger --max-bytes
            // would only waste memory.
            long largest = Math.Max(MessageQueue.GetLimits().MaxMessageSize, queue.Stat().MaxBytes);
            long limit = parseResult.GetResult(maxBytes) is null ? largest : Math.Min(parseResult.GetValue(maxBytes), largest);
            byte[] buffer = new byte[(int)Math.Min(limit, Array.MaxLength)];

            int length;
            long messageType;
            try
            {
                if (!parseResult.GetValue(noWait))
                {
                    length = queue.Receive(buffer, out messageType, selector, options, parseResult.GetValue(timeout), cancellationToken);
                }
                else if (!queue.TryReceive(buffer, out length, out messageType, selector, options))
                {
                    throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                        $"no message {DescribeSelector(selector, options)} is in the {MsgQueues.ObjectName} with id {queue.Id}, and --nowait says not to wait. Leave out --nowait to wait, or give --timeout."));
                }
            }
            catch (IpcSizeException e) when (e.Operation == "msgrcv")
            {
                // The library's advice names its API; say it in options.
                throw new IpcSizeException($"{e.Message} Here: leave out --max-bytes (the default fits every message), or add --truncate.", e);
            }

            output.Write(
                parseResult,
                action => action(buffer.AsSpan(0, length)),
                parseResult.GetValue(showType) ? messageType.ToString(CultureInfo.InvariantCulture) + "\t" : null,
                path => string.Create(CultureInfo.InvariantCulture, $"wrote {length} bytes (a message of type {messageType}) from {MsgQueues.ObjectName} id {queue.Id} to {path}"));
            return Task.FromResult(CliErrors.Success);
        });
        return command;
    }

    private static string DescribeSelector(long selector, MessageReceiveOptions options) => selector switch
    {
        0 => "of any type",
        > 0 when (options & MessageReceiveOptions.ExceptType) != 0 => string.Create(CultureInfo.InvariantCulture, $"of a type other than {selector}"),
        > 0 => string.Create(CultureInfo.InvariantCulture, $"of type {selector}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"of type {-selector} or lower"),
    };
}
