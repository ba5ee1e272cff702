using System.Globalization;

namespace ShmKit.Tests.Cli;

/// <summary>
/// <c>shmkit msg recv</c> takes a message out of the queue for good, so it checks where the payload goes before it
/// receives, never loses a message on a failed command, and waits in the kernel without costing CPU.
/// </summary>
public class MsgRecvSafetyTests
{
    [Theory]
    [InlineData("missing directory", "exec \"$@\" --out /nonexistent-shmkit-dir/payload", ExitCode.NotFound)]
    [InlineData("a directory", "exec \"$@\" --out /tmp", ExitCode.Failure)]
    [InlineData("/dev/full", "exec \"$@\" >/dev/full", ExitCode.Failure)]
    [InlineData("/dev/full with --text", "exec \"$@\" --text >/dev/full", ExitCode.Failure)]
    [InlineData("/dev/full with --out", "exec \"$@\" --out /dev/full", ExitCode.Failure)]
    [InlineData("closed stdout", "exec \"$@\" >&-", ExitCode.Failure)]
    [InlineData("closed stdin and stdout", "exec \"$@\" <&- >&-", ExitCode.Failure)]
    [InlineData("read-only stdout", "exec \"$@\" --hex 1</dev/null", ExitCode.Failure)]
    public void An_Output_That_Cannot_Be_Written_Fails_Before_The_Message_Is_Taken(string what, string script, int exitCode)
    {
        using var cleanup = new IpcCleanup();
        var queue = MessageQueue.CreatePrivate();
        cleanup.AddId('q', queue.Id);
        queue.Send(3, "keep me"u8);

        var result = Shmkit.RunShell(script, "msg", "recv", "--id", queue.Id.ToString(CultureInfo.InvariantCulture), "--nowait");
        Assert.True(result.ExitCode == exitCode, $"{what}: exit {result.ExitCode}, expected {exitCode}\nstderr: {result.Stderr}");
        Assert.StartsWith("shmkit: ", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("not received", result.Stderr, StringComparison.Ordinal);

        // The message is still there, whole.
        Assert.Equal(1, queue.Stat().MessageCount);
        byte[] buffer = new byte[64];
        Assert.True(queue.TryReceive(buffer, out int length, out long type));
        Assert.Equal(3, type);
        Assert.Equal("keep me"u8.ToArray(), buffer[..length]);
    }

    [Fact]
    public void Out_Writes_A_New_File_And_Replaces_An_Existing_One_Exactly()
    {
        using var cleanup = new IpcCleanup();
        var queue = MessageQueue.CreatePrivate();
        cleanup.AddId('q', queue.Id);
        string id = queue.Id.ToString(CultureInfo.InvariantCulture);
        string directory = Directory.CreateTempSubdirectory("shmkit-out-").FullName;
        try
        {
            string file = Path.Combine(directory, "payload");
            queue.Send(1, "first, longer payload"u8);
            queue.Send(1, "short"u8);
            Assert.Contains("wrote 21 bytes", Shmkit.Ok("msg", "recv", "--id", id, "--out", file), StringComparison.Ordinal);
            Assert.Equal("first, longer payload"u8.ToArray(), File.ReadAllBytes(file));
            Shmkit.Ok("msg", "recv", "--id", id, "--out", file);
            Assert.Equal("short"u8.ToArray(), File.ReadAllBytes(file));

            // A failed receive (nothing there) leaves no new file behind and an existing one as it was.
            string other = Path.Combine(directory, "never");
            Shmkit.Run("msg", "recv", "--id", id, "--nowait", "--out", other).AssertError(ExitCode.Timeout);
            Assert.False(File.Exists(other));
            Shmkit.Run("msg", "recv", "--id", id, "--nowait", "--out", file).AssertError(ExitCode.Timeout);
            Assert.Equal("short"u8.ToArray(), File.ReadAllBytes(file));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Text_Prints_The_Payload_Bytes_Faithfully()
    {
        using var cleanup = new IpcCleanup();
        var queue = MessageQueue.CreatePrivate();
        cleanup.AddId('q', queue.Id);
        byte[] payload = [0x68, 0x69, 0x00, 0xff, 0xfe, 0x41, 0xc3, 0xa9];
        queue.Send(1, payload);

        var (result, stdout) = Shmkit.RunBytes("msg", "recv", "--id", queue.Id.ToString(CultureInfo.InvariantCulture), "--text");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal([.. payload, (byte)'\n'], stdout);
    }

    [Fact]
    public void An_Idle_Recv_Blocks_In_The_Kernel_And_Costs_No_Cpu_Then_Sigterm_Ends_It()
    {
        using var cleanup = new IpcCleanup();
        var queue = MessageQueue.CreatePrivate();
        cleanup.AddId('q', queue.Id);
        using var receiver = ChildProcess.StartCli("msg", "recv", "--id", queue.Id.ToString(CultureInfo.InvariantCulture), "--text");

        ProcessProbe.WaitUntil(() => ProcessProbe.IsBlockedInMsgrcv(receiver.Id), "blocked in msgrcv", receiver);
        long ticks = ProcessProbe.CpuTicks(receiver.Id);
        long switches = ProcessProbe.ContextSwitches(receiver.Id);
        Thread.Sleep(2000);

        // A counting check, not a timing one: a polling wait wakes about 200 times a second (400 switches here); a
        // blocked one does not wake at all. The runtime's own threads may wake a few times.
        long moreSwitches = ProcessProbe.ContextSwitches(receiver.Id) - switches;
        long moreTicks = ProcessProbe.CpuTicks(receiver.Id) - ticks;
        Assert.True(moreSwitches <= 20, $"an idle msg recv woke {moreSwitches} times in 2 s");
        Assert.True(moreTicks <= 5, $"an idle msg recv used {moreTicks} CPU ticks in 2 s");
        Assert.True(ProcessProbe.IsBlockedInMsgrcv(receiver.Id));

        ProcessProbe.Signal(receiver.Id, "TERM");
        Assert.Equal(ExitCode.Terminated, receiver.WaitForExit(TimeSpan.FromSeconds(20)));
        Assert.Contains("nothing was received", receiver.StandardError, StringComparison.Ordinal);

        // It took nothing: a message sent now stays for the next receiver.
        queue.Send(1, "after"u8);
        Assert.Equal(1, queue.Stat().MessageCount);
    }

    [SigintFact]
    public void Ctrl_C_Ends_An_Idle_Recv_With_130_And_A_Timeout_Costs_No_Polling()
    {
        using var cleanup = new IpcCleanup();
        var queue = MessageQueue.CreatePrivate();
        cleanup.AddId('q', queue.Id);
        string id = queue.Id.ToString(CultureInfo.InvariantCulture);

        using (var receiver = ChildProcess.StartCli("msg", "recv", "--id", id))
        {
            ProcessProbe.WaitUntil(() => ProcessProbe.IsBlockedInMsgrcv(receiver.Id), "blocked in msgrcv", receiver);
            ProcessProbe.Signal(receiver.Id, "INT");
            Assert.Equal(ExitCode.Interrupted, receiver.WaitForExit(TimeSpan.FromSeconds(20)));
        }

        // With --timeout the wait blocks in the kernel too (no polling), and the timeout ends it.
        using (var receiver = ChildProcess.StartCli("msg", "recv", "--id", id, "--timeout", "3s"))
        {
            ProcessProbe.WaitUntil(() => ProcessProbe.IsBlockedInMsgrcv(receiver.Id) || receiver.HasExited, "blocked in msgrcv", receiver);
            Assert.Equal(ExitCode.Timeout, receiver.WaitForExit(TimeSpan.FromSeconds(20)));
            Assert.Contains("timed out after 3000 ms", receiver.StandardError, StringComparison.Ordinal);
        }

        queue.Send(1, "still here"u8);
        Assert.Equal(1, queue.Stat().MessageCount);
    }
}
