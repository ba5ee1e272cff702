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
        var type = CliParsing.IntegerOption("--type", "The message type, 1 or more (default 1); receivers select messages by it. Decimal or 0x hex.", 1L, long.MaxValue,
            rangeHelp: "a type is a whole number of 1 or more (0 and negative numbers are receive selectors, not types)");
        type.DefaultValueFactory = _ => 1;
        var timeout = CliParsing.DurationOption("--timeout", "Give up after this long while the queue is full (500ms, 5s, 2m; a bare number is seconds): exit 6 with a message. Default: wait for room (Ctrl+C stops). Waiting costs no CPU.");
        var noWait = new Option<bool>("--nowait") { Description = "Do not wait (IPC_NOWAIT): if the queue is full, exit 6." };
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

        command.SetAction(parseResult =>
        {
            byte[]? given = input.ReadArgument(parseResult);
            var queue = MsgQueues.Open(target.GetTarget(parseResult));
            int msgmax = MessageQueue.GetLimits().MaxMessageSize;
            byte[] payload = input.Read(parseResult, given, "send", msgmax, amount => string.Create(CultureInfo.InvariantCulture,
                $"the payload ({amount}) is longer than msgmax={msgmax} bytes, the largest message the system accepts; nothing was sent. Send smaller messages, or use a shared memory segment for bulk data."));
            long messageType = parseResult.GetValue(type);
            if (parseResult.GetValue(noWait))
            {
                if (!queue.TrySend(messageType, payload))
                {
                    throw new CliException(string.Create(CultureInfo.InvariantCulture,
                        $"the {MsgQueues.ObjectName} with id {queue.Id} is full{DescribeFill(queue)}, and --nowait says not to wait. Receive some messages first, or leave out --nowait."), CliErrors.Timeout);
                }
            }
            else
            {
                var wait = parseResult.GetValue(timeout);
                CliWait.Run(
                    () =>
                    {
                        queue.Send(messageType, payload);
                        return true;
                    },
                    wait,
                    () => CliWait.TimedOut("msgsnd", wait.GetValueOrDefault(), $"the {MsgQueues.ObjectName} with id {queue.Id} stayed full{DescribeFill(queue)}. Receive messages from it, or wait longer"),
                    "nothing was sent");
            }

            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"sent {payload.Length} bytes as type {messageType} to {MsgQueues.ObjectName} id {queue.Id}"));
            return CliErrors.Success;
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
