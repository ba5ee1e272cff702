using System.CommandLine;

namespace ShmKit.Cli.Commands;

/// <summary><c>shmkit sem</c>: the semaphore set commands (ipcs -s / ipcmk -S / ipcrm -s, and semop/semctl from the shell).</summary>
internal static class SemCommand
{
    internal static Command Create() => new("sem", "Semaphore sets: create, list, info, op, set, rm (like ipcmk -S, ipcs -s, ipcrm -s, plus semop and semctl).")
    {
        SemCreateCommand.Create(),
        SemListCommand.Create(),
        SemInfoCommand.Create(),
        SemOpCommand.Create(),
        SemSetCommand.Create(),
        SemRemoveCommand.Create(),
    };
}
