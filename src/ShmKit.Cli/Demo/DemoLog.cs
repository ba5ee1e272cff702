using System.Diagnostics;
using System.Globalization;

namespace ShmKit.Cli.Demo;

/// <summary>
/// One half's narration: each line carries the milliseconds since the clock's origin. Both halves started by
/// <c>shmkit demo</c> get the same origin (the orchestrator's <see cref="Stopwatch.GetTimestamp"/>, which on Linux is
/// CLOCK_MONOTONIC, one clock for every process on the host), so their lines can be compared: a client never appears
/// to pass the gate before the server opened it. A half run by hand counts from its own start.
/// </summary>
internal sealed class DemoLog
{
    private readonly long _origin;

    /// <param name="origin">The <see cref="Stopwatch.GetTimestamp"/> to count from; 0 for now.</param>
    internal DemoLog(long origin = 0)
    {
        _origin = origin > 0 ? origin : Stopwatch.GetTimestamp();
    }

    /// <summary>Now, on the log's clock.</summary>
    internal static long Now => Stopwatch.GetTimestamp();

    /// <summary>Writes <paramref name="text"/> stamped with <paramref name="at"/> (a <see cref="Now"/> taken earlier), or now.</summary>
    internal void Say(string text, long? at = null)
    {
        double milliseconds = Stopwatch.GetElapsedTime(_origin, at ?? Now).TotalMilliseconds;
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{milliseconds,8:0.0} ms  {text}"));
        Console.Out.Flush();
    }
}
