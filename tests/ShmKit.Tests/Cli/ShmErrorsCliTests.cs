using System.Globalization;

namespace ShmKit.Tests.Cli;

/// <summary>
/// The error convention of the shared memory commands: one "shmkit: ..." line on stderr, nothing on stdout, no
/// stack trace; exit 1 for operational failures (not found, exists), 2 for usage errors (bad input, out of range).
/// </summary>
public class ShmErrorsCliTests
{
    [Fact]
    public void Unknown_Key_Or_Id_Is_Not_Found_With_One_Line()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        Assert.Contains(key.ToString(), Shmkit.Run("info", key.ToString()).AssertError(ExitCode.NotFound), StringComparison.Ordinal);
        Shmkit.Run("read", key.ToString()).AssertError(ExitCode.NotFound);
        Shmkit.Run("dump", "--id", "2147483000").AssertError(ExitCode.NotFound);

        // A plain number is a key, as for ipcrm -M; the message says how to name an id.
        Assert.Contains("--id 2147483000", Shmkit.Run("rm", "2147483000").AssertError(ExitCode.NotFound), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("12XB")]
    [InlineData("1MB")]
    [InlineData("-1")]
    [InlineData("0")]
    [InlineData("1.5M")]
    [InlineData("99999999999G")]
    public void Bad_Size_Is_A_Usage_Error(string size)
    {
        string error = Shmkit.Run("create", "--size", size).AssertError(2);
        Assert.Contains("--size", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("create", "--size", "1K", "--mode", "0800")]
    [InlineData("create", "--size", "1K", "--key", "0x1", "--private")]
    [InlineData("create")]
    [InlineData("info", "not-a-key")]
    [InlineData("info", "0x0")]
    [InlineData("info", "0x1", "--id", "1")]
    [InlineData("info")]
    [InlineData("info", "--id", "abc")]
    [InlineData("rm", "--id", "-1")]
    [InlineData("write", "--id", "0", "--hex", "abc")]
    [InlineData("write", "--id", "0", "--hex", "zz")]
    [InlineData("write", "--id", "0", "--text", "a", "--hex", "61")]
    [InlineData("read", "--id", "0", "--hex", "--text")]
    [InlineData("list", "--bogus")]
    public void Bad_Arguments_Are_Usage_Errors(params string[] args) => Shmkit.Run(args).AssertError(2);

    [EnvironmentFact(Needs.NoHugePages)]
    public void Huge_Pages_Without_Reserved_Huge_Pages_Explains_Why()
    {
        string error = Shmkit.Run("create", "--size", "2MiB", "--huge-pages").AssertError(ExitCode.Limit);
        Assert.Contains("nr_hugepages = 0", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_Ftok_Path_Is_Not_Found()
    {
        string error = Shmkit.Run("info", "/nonexistent/shmkit-test:1").AssertError(ExitCode.NotFound);
        Assert.Contains("/nonexistent/shmkit-test", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Out_Of_Range_Access_Names_Offset_Length_And_Size()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        string id = segment.Id.ToString(CultureInfo.InvariantCulture);
        using (var attachment = segment.Attach())
        {
            attachment.FillAll(0x55);
        }

        string error = Shmkit.Run("read", "--id", id, "--offset", "4000", "--length", "100").AssertError(2);
        Assert.Contains("offset 4000", error, StringComparison.Ordinal);
        Assert.Contains("length 100", error, StringComparison.Ordinal);
        Assert.Contains("4096 bytes", error, StringComparison.Ordinal);

        Shmkit.Run("dump", "--id", id, "--offset", "5000").AssertError(2);
        Assert.Contains("room for 4 bytes", Shmkit.Run("write", "--id", id, "--offset", "4092", "--text", "12345").AssertError(ExitCode.TooLarge), StringComparison.Ordinal);

        // The failed write touched nothing.
        using var check = segment.AttachReadOnly();
        Assert.All(check.ReadAll(), b => Assert.Equal(0x55, b));
    }

    [Fact]
    public void Write_Of_Empty_Stdin_Writes_Zero_Bytes()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(16));

        // Empty stdin is zero bytes, which is a valid (empty) write.
        var result = Shmkit.RunWithInput([], "write", "--id", segment.Id.ToString(CultureInfo.InvariantCulture));
        Assert.Contains("wrote 0 bytes", result.AssertSuccess(), StringComparison.Ordinal);
    }
}
