namespace ShmKit.TestChild;

/// <summary>The other process in cross-process tests: one verb per scenario, exit code 0 on success.</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: ShmKit.TestChild <verb> [args]");
            return 2;
        }

        Console.Error.WriteLine($"unknown verb '{args[0]}'");
        return 2;
    }
}
