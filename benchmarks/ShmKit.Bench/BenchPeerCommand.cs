using System.CommandLine;

namespace ShmKit.Bench;

/// <summary><c>peer</c> (hidden): the other process of the benchmark, this program started again by itself.</summary>
internal static class BenchPeerCommand
{
    /// <summary>The hidden command's name, the first argument of the peer process.</summary>
    internal const string Verb = "peer";

    internal static Command Create()
    {
        var args = new Argument<string[]>("setup") { Arity = ArgumentArity.ZeroOrMore, Description = "parent=PID cpu=N dir=TEMPDIR TRANSPORT=SETUP..." };
        var command = new Command(Verb, "The peer process of the benchmark (started by it).") { Hidden = true };
        command.Arguments.Add(args);
        command.SetAction(parseResult => BenchPeer.Run(parseResult.GetValue(args) ?? []));
        return command;
    }
}
