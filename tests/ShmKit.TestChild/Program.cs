using System.Reflection;

namespace ShmKit.TestChild;

/// <summary>
/// The other process in cross-process tests. Each scenario is a static method marked <see cref="VerbAttribute"/>
/// in a file under Verbs/ (one file per area), taking the remaining arguments and returning the exit code.
/// Conventions: print "READY" on stdout when the test may proceed, report results on stdout one per line,
/// errors on stderr; exit 0 on success. The parent kills the child on timeout.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: ShmKit.TestChild <verb> [args]");
            return 2;
        }

        var verbs = typeof(Program).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<VerbAttribute>()))
            .Where(x => x.Attribute is not null)
            .ToDictionary(x => x.Attribute!.Name, x => x.Method, StringComparer.Ordinal);

        if (!verbs.TryGetValue(args[0], out var method))
        {
            Console.Error.WriteLine($"unknown verb '{args[0]}'; known: {string.Join(", ", verbs.Keys.Order())}");
            return 2;
        }

        try
        {
            return (int)method.Invoke(null, [args[1..]])!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            Console.Error.WriteLine($"{e.InnerException.GetType().FullName}: {e.InnerException.Message}");
            return 1;
        }
    }
}
