namespace ShmKit.Cli;

internal static class Program
{
    private static int Main(string[] args) => ShmKitCommandLine.Run(args);
}
