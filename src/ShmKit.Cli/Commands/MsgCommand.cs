using System.CommandLine;

namespace ShmKit.Cli.Commands;

/// <summary><c>shmkit msg</c>: the message queue commands (ipcs -q / ipcmk -Q / ipcrm -q, and msgsnd/msgrcv from the shell).</summary>
internal static class MsgCommand
{
    internal static Command Create() => new("msg", "Message queues: create, list, info, send, recv, rm (like ipcmk -Q, ipcs -q, ipcrm -q, plus msgsnd and msgrcv).")
    {
        MsgCreateCommand.Create(),
        MsgListCommand.Create(),
        MsgInfoCommand.Create(),
        MsgSendCommand.Create(),
        MsgReceiveCommand.Create(),
        MsgRemoveCommand.Create(),
    };
}
