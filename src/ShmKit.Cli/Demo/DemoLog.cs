using System.Diagnostics;
using System.Globalization;

namespace ShmKit.Cli.Demo;

/// <summary>One half's narration: each line carries the milliseconds since the half started.</summary>
internal sealed class DemoLog
{
    private readonly long _start = Stopwatch.GetTimestamp();

    internal double ElapsedMilliseconds => Stopwatch.GetElapsedTime(_start).TotalMilliseconds;

    internal void Say(string text)
    {
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{ElapsedMilliseconds,8:0.0} ms  {text}"));
        Console.Out.Flush();
    }
}
