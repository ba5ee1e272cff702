using System.CommandLine;
using ShmKit.Cli.Bench;

namespace ShmKit.Cli.Commands;

/// <summary><c>shmkit bench-peer</c> (hidden): the other process of <c>shmkit bench</c>, started by it.</summary>
internal static class BenchPeerCommand
{
    internal static Command Create()
    {
        var args = new Argument<string[]>("setup") { Arity = ArgumentArity.ZeroOrMore, Description = "parent=PID cpu=N dir=TEMPDIR TRANSPORT=SETUP..." };
        var command = new Command("bench-peer", "The peer process of `shmkit bench` (started by it).") { Hidden = true };
        command.Arguments.Add(args);
        command.SetAction(parseResult => BenchPeer.Run(parseResult.GetValue(args) ?? []));
        return command;
    }
}
