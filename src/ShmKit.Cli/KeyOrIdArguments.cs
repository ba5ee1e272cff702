using System.CommandLine;
using System.CommandLine.Parsing;

namespace ShmKit.Cli;

/// <summary>
/// The positional key(s) and the <c>--id</c> option that name IPC objects; see <see cref="CliParsing.AddKeyOrId"/>.
/// For a command that takes one object they are an <c>Argument&lt;string?&gt;</c> and an <c>Option&lt;int?&gt;</c>;
/// for one that takes several (rm), an <c>Argument&lt;string[]&gt;</c> and a repeatable <c>Option&lt;int[]&gt;</c>.
/// </summary>
/// <param name="Keys">The positional key argument.</param>
/// <param name="Ids">The <c>--id</c> option.</param>
internal sealed record KeyOrIdArguments(Argument Keys, Option Ids)
{
    /// <summary>The targets named: keys first, then ids. Keys are parsed later, by the command.</summary>
    internal IReadOnlyList<IpcTarget> GetTargets(ParseResult parseResult) => GetTargets(parseResult.CommandResult);

    /// <summary>The targets named, from a command's result (for validators).</summary>
    internal IReadOnlyList<IpcTarget> GetTargets(CommandResult result)
    {
        var targets = new List<IpcTarget>();
        switch (Keys)
        {
            case Argument<string[]> many:
                targets.AddRange((result.GetValue(many) ?? []).Select(k => new IpcTarget(k, null)));
                break;
            case Argument<string?> one when result.GetValue(one) is { } key:
                targets.Add(new IpcTarget(key, null));
                break;
        }

        switch (Ids)
        {
            case Option<int[]> many:
                targets.AddRange((result.GetValue(many) ?? []).Select(id => new IpcTarget(null, id)));
                break;
            case Option<int?> one when result.GetValue(one) is int id:
                targets.Add(new IpcTarget(null, id));
                break;
        }

        return targets;
    }

    /// <summary>
    /// Runs <paramref name="action"/> for every target, in order, carrying on after a failure: each failure is
    /// reported on its own stderr line (see <see cref="CliErrors"/>). This is how every <c>rm</c> works.
    /// </summary>
    /// <returns>The highest exit code: <see cref="CliErrors.Success"/> when every target succeeded.</returns>
    internal int ForEachTarget(ParseResult parseResult, Action<IpcTarget> action)
    {
        int exitCode = CliErrors.Success;
        foreach (var target in GetTargets(parseResult))
        {
            try
            {
                action(target);
            }
            catch (Exception e) when (CliErrors.IsUserError(e))
            {
                exitCode = Math.Max(exitCode, CliErrors.Report(e));
            }
        }

        return exitCode;
    }

    /// <summary>The single target of a command that takes exactly one (the validator guarantees there is one).</summary>
    internal IpcTarget GetTarget(ParseResult parseResult) => GetTargets(parseResult)[0];
}
