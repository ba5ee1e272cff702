using System.CommandLine;

namespace ShmKit.Cli;

/// <summary>Builds the command tree; each verb lives in its own file under Commands/ and exposes <c>Create()</c>.</summary>
internal static class ShmKitCommandLine
{
    internal static int Run(string[] args)
    {
        var root = new RootCommand("shmkit: System V shared memory, semaphores and message queues from the shell.");
        foreach (var command in Commands())
        {
            root.Subcommands.Add(command);
        }

        return root.Parse(args).Invoke();
    }

    private static IEnumerable<Command> Commands() =>
    [
        // Shared memory segments (ipcs -m / ipcmk -M / ipcrm -m and random access).
        // Semaphore sets, message queues, the demo.
        // Benchmarks.
        ShmKit.Cli.Commands.BenchCommand.Create(),
        ShmKit.Cli.Commands.BenchPeerCommand.Create(),
    ];
}
