namespace ShmKit.TestChild;

internal static class BasicVerbs
{
    /// <summary>Prints READY and the arguments; used to test the runner itself.</summary>
    [Verb("echo")]
    public static int Echo(string[] args)
    {
        Console.WriteLine("READY");
        Console.WriteLine(string.Join(' ', args));
        return 0;
    }

    /// <summary>Prints READY and sleeps forever: the parent must kill it.</summary>
    [Verb("hang")]
    public static int Hang(string[] args)
    {
        Console.WriteLine("READY");
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }
}
