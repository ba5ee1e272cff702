namespace ShmKit.Bench;

/// <summary>
/// The cross-process benchmark (docs/PERFORMANCE.md): <c>dotnet run -c Release --project benchmarks/ShmKit.Bench --
/// --quick</c>. The same executable, started again by itself with the hidden <c>peer</c> command, is the other process.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        var root = BenchCommand.Create();
        root.Subcommands.Add(BenchPeerCommand.Create());
        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            // One line and exit code 2 (usage), as shmkit reports its parse errors.
            string errors = string.Join("; ", parseResult.Errors.Select(e => e.Message.TrimEnd('.')).Distinct());
            Console.Error.WriteLine($"{BenchCommand.Name}: {errors}. See --help.");
            return 2;
        }

        return parseResult.Invoke();
    }
}
