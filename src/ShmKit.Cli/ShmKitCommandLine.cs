using System.CommandLine;

namespace ShmKit.Cli;

/// <summary>Builds the command tree; each verb lives in its own file under Commands/.</summary>
internal static class ShmKitCommandLine
{
    internal static int Run(string[] args)
    {
        var root = new RootCommand("shmkit: System V shared memory, semaphores and message queues from the shell.");
        return root.Parse(args).Invoke();
    }
}
