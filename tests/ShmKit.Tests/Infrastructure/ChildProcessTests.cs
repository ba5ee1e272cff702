namespace ShmKit.Tests;

public class ChildProcessTests
{
    [Fact]
    public void TestChild_Runs_And_Is_Killed_On_Dispose()
    {
        var (code, stdout, _) = ChildProcess.RunChild("echo", "a", "b");
        Assert.Equal(0, code);
        Assert.Contains("a b", stdout, StringComparison.Ordinal);

        int pid;
        using (var hung = ChildProcess.StartChild("hang"))
        {
            hung.WaitForLine("READY");
            pid = hung.Id;
        }

        Assert.Throws<ArgumentException>(() => System.Diagnostics.Process.GetProcessById(pid));
    }
}
