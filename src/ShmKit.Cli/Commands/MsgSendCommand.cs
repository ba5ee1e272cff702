using System.CommandLine;
using System.Globalization;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit msg send</c>: sends one message (msgsnd). The payload comes from <c>--text</c> (UTF-8), <c>--hex</c>,
/// <c>--file</c>, or stdin when none is given; it waits while the queue is full unless <c>--nowait</c> or <c>--timeout</c>.
/// </summary>
internal static class MsgSendCommand
{
    internal static Command Create()
    {
        var type = new Option<long>("--type")
        {
            Description = "The message type, 1 or more (default 1); receivers select messages by it.",
            HelpName = "n",
            DefaultValueFactory = _ => 1,
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
                if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) || value < 1)
                {
                    result.AddError($"--type: '{text}' is not a message type: a type is a whole number of 1 or more (0 and negative numbers are receive selectors, not types).");
                }

                return value;
            },
        };
        var timeout = CliParsing.DurationOption("--timeout", "Give up after this long while the queue is full (500ms, 5s, 2m; a bare number is seconds): exit 1 with a message. Default: wait for room (Ctrl+C stops).");
        var noWait = new Option<bool>("--nowait") { Description = "Do not wait (IPC_NOWAIT): if the queue is full, exit 1." };
        var command = new Command("send", "Send one message (msgsnd) with a type and a payload from --text, --hex, --file or stdin; waits while the queue is full.")
        {
            type, timeout, noWait,
        };
        var input = PayloadInput.Add(command, "Send");
        var target = CliParsing.AddKeyOrId(command, MsgQueues.ObjectName);
        command.Validators.Add(result =>
        {
            if (result.GetValue(noWait) && result.GetResult(timeout) is not null)
            {
                result.AddError("give --nowait or --timeout, not both (--nowait never waits)");
            }
        });

        command.SetAction((parseResult, cancellationToken) =>
        {
            byte[] payload = input.Read(parseResult, "send");
            long messageType = parseResult.GetValue(type);
            var queue = MsgQueues.Open(target.GetTarget(parseResult));
            if (parseResult.GetValue(noWait))
            {
                if (!queue.TrySend(messageType, payload))
                {
                    throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                        $"the {MsgQueues.ObjectName} with id {queue.Id} is full{DescribeFill(queue)}, and --nowait says not to wait. Receive some messages first, or leave out --nowait."));
                }
            }
            else
            {
                queue.Send(messageType, payload, parseResult.GetValue(timeout), cancellationToken);
            }

            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"sent {payload.Length} bytes as type {messageType} to {MsgQueues.ObjectName} id {queue.Id}"));
            return Task.FromResult(CliErrors.Success);
        });
        return command;
    }

    /// <summary>How full the queue is, for a message; nothing when this user may write but not read (IPC_STAT) it.</summary>
    private static string DescribeFill(MessageQueue queue)
    {
        try
        {
            var info = queue.Stat();
            return string.Create(CultureInfo.InvariantCulture, $" ({info.CurrentBytes} of {info.MaxBytes} bytes, {info.MessageCount} messages)");
        }
        catch (Exception e) when (e is IpcException or IpcAccessDeniedException)
        {
            return string.Empty;
        }
    }
}
