using System.CommandLine;

namespace ShmKit.Cli.Commands;

/// <summary>
/// <c>shmkit bench</c>, which is no longer a shmkit command: a hidden command (not in help or completion) that says
/// where the benchmark went, whatever options follow, and exits 2 (usage).
/// </summary>
internal static class BenchMovedCommand
{
    internal static Command Create()
    {
        var command = new Command("bench", "The benchmark moved to benchmarks/ShmKit.Bench.")
        {
            Hidden = true,
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction(int (_) => throw new CliException(
            "the benchmark is no longer a shmkit command: it is the program benchmarks/ShmKit.Bench of the ShmKit repository, with the same options. Run `dotnet run -c Release --project benchmarks/ShmKit.Bench -- --quick` in a clone (docs/PERFORMANCE.md says more).",
            CliErrors.Usage));
        return command;
    }
}
