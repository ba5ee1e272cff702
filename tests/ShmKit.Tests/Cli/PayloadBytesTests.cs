using System.Globalization;

namespace ShmKit.Tests.Cli;

/// <summary>
/// The bytes a command takes in and gives out are exactly the bytes given: arguments that are not UTF-8 are not
/// re-encoded, stdin is read only up to what fits the destination, and large reads are streamed, not built in memory.
/// </summary>
public class PayloadBytesTests
{
    /// <summary>The heap limit for the memory-bound tests: far below the sizes they move.</summary>
    private const string SmallHeap = "0x3000000"; // 48 MiB

    [Fact]
    public void Text_That_Is_Not_Utf8_Is_Written_As_The_Bytes_Given()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(64));
        string id = segment.Id.ToString(CultureInfo.InvariantCulture);

        // printf turns the octal escapes into raw bytes: ff fe 61 62 63, five bytes that are not UTF-8.
        var result = Shmkit.RunShell("exec \"$@\" --text \"$(printf '\\377\\376abc')\"", "write", "--id", id, "--offset", "8");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("wrote 5 bytes", result.Stdout, StringComparison.Ordinal);
        using var view = segment.AttachReadOnly();
        byte[] bytes = new byte[16];
        view.ReadBytes(0, bytes);
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0x61, 0x62, 0x63, 0, 0, 0 }, bytes);
    }

    [Fact]
    public void Msg_Send_Text_That_Is_Not_Utf8_Sends_The_Bytes_Given()
    {
        using var cleanup = new IpcCleanup();
        var queue = MessageQueue.CreatePrivate();
        cleanup.AddId('q', queue.Id);

        // Also as --text=VALUE, one argument.
        var result = Shmkit.RunShell("exec \"$@\" \"--text=$(printf 'a\\351b')\"", "msg", "send", "--id", queue.Id.ToString(CultureInfo.InvariantCulture));
        Assert.True(result.ExitCode == 0, result.Stderr);
        byte[] buffer = new byte[16];
        Assert.True(queue.TryReceive(buffer, out int length, out _));
        Assert.Equal(new byte[] { 0x61, 0xe9, 0x62 }, buffer[..length]);
    }

    [Fact]
    public void Stdin_Larger_Than_The_Segment_Fails_As_Soon_As_It_Passes_The_Room()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        string id = segment.Id.ToString(CultureInfo.InvariantCulture);

        // yes never ends: shmkit must stop reading at the room left (4096 - 4000 = 96 bytes), not read it all.
        string error = Shmkit.RunShell("yes 2>/dev/null | \"$@\"", "write", "--id", id, "--offset", "4000").AssertError(ExitCode.TooLarge);
        Assert.Contains("96 bytes", error, StringComparison.Ordinal);

        // Memory stays bounded by the destination, not the input: 300 MB into a 1-byte segment under a 48 MiB heap.
        var tiny = cleanup.Add(SharedMemorySegment.CreatePrivate(1));
        var result = Shmkit.RunShell($"head -c 300000000 /dev/zero 2>/dev/null | DOTNET_GCHeapHardLimit={SmallHeap} \"$@\"", "write", "--id", tiny.Id.ToString(CultureInfo.InvariantCulture));
        Assert.Contains("1 byte", result.AssertError(ExitCode.TooLarge), StringComparison.Ordinal);

        // Nothing was written.
        using var view = segment.AttachReadOnly();
        Assert.Equal(0, view.Read<long>(4000));
    }

    [Fact]
    public void Msg_Send_Stdin_Above_Msgmax_Fails_Early_And_Sends_Nothing()
    {
        using var cleanup = new IpcCleanup();
        var queue = MessageQueue.CreatePrivate();
        cleanup.AddId('q', queue.Id);
        string error = Shmkit.RunShell("yes 2>/dev/null | \"$@\"", "msg", "send", "--id", queue.Id.ToString(CultureInfo.InvariantCulture)).AssertError(ExitCode.TooLarge);
        Assert.Contains("msgmax", error, StringComparison.Ordinal);
        Assert.Equal(0, queue.Stat().MessageCount);
    }

    [Fact]
    public void Read_Hex_And_Dump_Stream_A_Segment_Larger_Than_The_Heap()
    {
        using var cleanup = new IpcCleanup();
        const int size = 64 << 20; // 64 MiB: its hex is 128 MiB of text, far beyond the 48 MiB heap
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(size));
        using (var view = segment.Attach())
        {
            view.Write(size - 8, 0x0123456789abcdefL);
        }

        string id = segment.Id.ToString(CultureInfo.InvariantCulture);
        string file = Path.GetTempFileName();
        try
        {
            var result = Shmkit.RunShell($"DOTNET_GCHeapHardLimit={SmallHeap} exec \"$@\" >'{file}'", "read", "--id", id, "--hex");
            Assert.True(result.ExitCode == 0, result.Stderr);
            var info = new FileInfo(file);
            Assert.Equal((2L * size) + 1, info.Length);
            using (var stream = File.OpenRead(file))
            {
                stream.Seek(-17, SeekOrigin.End);
                byte[] tail = new byte[17];
                stream.ReadExactly(tail);
                Assert.Equal("efcdab8967452301\n", System.Text.Encoding.ASCII.GetString(tail));
            }

            result = Shmkit.RunShell($"DOTNET_GCHeapHardLimit={SmallHeap} exec \"$@\" >'{file}'", "dump", "--id", id);
            Assert.True(result.ExitCode == 0, result.Stderr);
            string[] lines = File.ReadAllLines(file);
            Assert.Equal(["00000000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|", "*"], lines[..2]);
            Assert.Equal("03fffff0  00 00 00 00 00 00 00 00  ef cd ab 89 67 45 23 01  |............gE#.|", lines[^2]);
            Assert.Equal("04000000", lines[^1]);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
