namespace ShmKit.Tests;

/// <summary>
/// Fresh System V keys for tests: 0x5Bppppnn with the test process's pid in the middle, so two test runs on one
/// host never collide, and a counter in the low byte(s).
/// </summary>
internal static class TestKeys
{
    private static int s_counter;

    internal static IpcKey Next()
    {
        int n = Interlocked.Increment(ref s_counter);
        int pid = Environment.ProcessId & 0xFFFF;
        return new IpcKey(unchecked((int)(0x5B000000u | ((uint)pid << 8) ^ (uint)(n & 0xFFFFF))));
    }
}
