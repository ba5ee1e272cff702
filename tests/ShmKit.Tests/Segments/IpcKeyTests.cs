using System.Globalization;

namespace ShmKit.Tests.Segments;

public class IpcKeyTests
{
    [Fact]
    public void ExplicitValue_RoundTrips_And_Compares()
    {
        var key = new IpcKey(0x1a2b);
        Assert.Equal(0x1a2b, key.Value);
        Assert.False(key.IsPrivate);
        Assert.Equal(new IpcKey(0x1a2b), key);
        Assert.True(key == new IpcKey(0x1a2b));
        Assert.True(key != new IpcKey(0x1a2c));
        Assert.Equal(key.GetHashCode(), new IpcKey(0x1a2b).GetHashCode());
        Assert.False(key.Equals((object)0x1a2b));
    }

    [Fact]
    public void Private_Is_Key_Zero()
    {
        Assert.True(IpcKey.Private.IsPrivate);
        Assert.Equal(0, IpcKey.Private.Value);
        Assert.Equal(IpcKey.Private, new IpcKey(0));
        Assert.Equal(IpcKey.Private, default);
        Assert.Equal("0x00000000", IpcKey.Private.ToString());
    }

    [Theory]
    [InlineData(0x1a2b, "0x00001a2b")]
    [InlineData(-1, "0xffffffff")]
    [InlineData(int.MinValue, "0x80000000")]
    [InlineData(int.MaxValue, "0x7fffffff")]
    public void ToString_Is_0x_And_Eight_Hex_Digits(int value, string expected)
    {
        var key = new IpcKey(value);
        Assert.Equal(expected, key.ToString());
        Assert.Equal(expected, string.Create(CultureInfo.InvariantCulture, $"{key}"));
        Assert.Equal(expected, key.ToString(null, CultureInfo.InvariantCulture));

        Span<char> buffer = stackalloc char[10];
        Assert.True(key.TryFormat(buffer, out int written, default, CultureInfo.InvariantCulture));
        Assert.Equal(expected, buffer[..written].ToString());
        Assert.False(key.TryFormat(stackalloc char[9], out _, default, CultureInfo.InvariantCulture));

        // A format string formats the raw value.
        Assert.Equal(value.ToString(CultureInfo.InvariantCulture), key.ToString("D", CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("0x1a2b", 0x1a2b)]
    [InlineData("0X1A2B", 0x1a2b)]
    [InlineData("0x00001a2b", 0x1a2b)]
    [InlineData("6699", 6699)]
    [InlineData("  6699 ", 6699)]
    [InlineData("0", 0)]
    [InlineData("-1", -1)]
    [InlineData("-2147483648", int.MinValue)]
    [InlineData("2147483647", int.MaxValue)]
    [InlineData("4294967295", -1)]
    [InlineData("3735928559", unchecked((int)0xdeadbeef))]
    [InlineData("0xffffffff", -1)]
    [InlineData("0x80000000", int.MinValue)]
    public void Parse_Numbers(string text, int expected)
    {
        Assert.Equal(expected, IpcKey.Parse(text).Value);
        Assert.Equal(expected, IpcKey.Parse(text, CultureInfo.InvariantCulture).Value);
        Assert.True(IpcKey.TryParse(text, out var key));
        Assert.Equal(expected, key.Value);
    }

    [Fact]
    public void Parse_Of_ToString_RoundTrips()
    {
        foreach (int value in new[] { 1, 0x1a2b, -1, int.MinValue, int.MaxValue, 0x5B123456 })
        {
            var key = new IpcKey(value);
            Assert.Equal(key, IpcKey.Parse(key.ToString()));
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("abc")]
    [InlineData("0x")]
    [InlineData("0xg1")]
    [InlineData("0x100000000")]
    [InlineData("4294967296")]
    [InlineData("-2147483649")]
    [InlineData("99999999999999999999")]
    [InlineData("12abc")]
    [InlineData("1.5")]
    [InlineData("+-1")]
    [InlineData("/tmp:0")]
    [InlineData("/tmp:256")]
    [InlineData("/tmp:")]
    [InlineData("/tmp:abc")]
    [InlineData("/tmp:-1")]
    public void Parse_Garbage_Is_FormatException(string text)
    {
        var e = Assert.Throws<FormatException>(() => IpcKey.Parse(text));
        Assert.Contains("key", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.False(IpcKey.TryParse(text, out var key));
        Assert.Equal(default, key);
    }

    [Fact]
    public void Parse_Null()
    {
        Assert.Throws<ArgumentNullException>(() => IpcKey.Parse(null!));
        Assert.False(IpcKey.TryParse(null, out _));
    }

    [Fact]
    public void FromPath_Is_Ftok_Stable_Per_Path_And_Id()
    {
        string dir = Directory.CreateTempSubdirectory("shmkit-ftok-").FullName;
        try
        {
            string file = Path.Combine(dir, "anchor");
            string other = Path.Combine(dir, "other");
            File.WriteAllText(file, "x");
            File.WriteAllText(other, "y");

            var a = IpcKey.FromPath(file, 65);
            Assert.Equal(a, IpcKey.FromPath(file, 65));
            Assert.False(a.IsPrivate);

            // Same path, different id: a different key (the id is the top byte).
            var b = IpcKey.FromPath(file, 66);
            Assert.NotEqual(a, b);
            Assert.Equal(65, (int)((uint)a.Value >> 24));
            Assert.Equal(66, (int)((uint)b.Value >> 24));

            // Another file (another inode) with the same id: a different key.
            Assert.NotEqual(a, IpcKey.FromPath(other, 65));

            // ftok works on the inode: another name for the same file gives the same key.
            string link = Path.Combine(dir, "link");
            File.CreateSymbolicLink(link, file);
            Assert.Equal(a, IpcKey.FromPath(link, 65));

            // Directories work too.
            Assert.Equal(IpcKey.FromPath(dir, 1), IpcKey.FromPath(dir + "/.", 1));

            // The text form path:id agrees, with a number or an ipcmk-style character.
            Assert.Equal(a, IpcKey.Parse(file + ":65"));
            Assert.Equal(a, IpcKey.Parse(file + ":0x41"));
            Assert.Equal(a, IpcKey.Parse(file + ":A"));
            Assert.True(IpcKey.TryParse(file + ":66", out var parsed));
            Assert.Equal(b, parsed);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void FromPath_Missing_Path_Is_FileNotFoundException()
    {
        string missing = Path.Combine(Path.GetTempPath(), "shmkit-missing-" + Guid.NewGuid().ToString("N"));
        var e = Assert.Throws<FileNotFoundException>(() => IpcKey.FromPath(missing, 1));
        Assert.Equal(missing, e.FileName);
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);

        Assert.Throws<FileNotFoundException>(() => IpcKey.Parse(missing + ":1"));
        Assert.False(IpcKey.TryParse(missing + ":1", out _));
    }

    [Fact]
    public void FromPath_Bad_Arguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => IpcKey.FromPath("/tmp", 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => IpcKey.FromPath("/tmp", 256));
        Assert.Throws<ArgumentOutOfRangeException>(() => IpcKey.FromPath("/tmp", -1));
        Assert.Throws<ArgumentException>(() => IpcKey.FromPath("", 1));
        Assert.Throws<ArgumentNullException>(() => IpcKey.FromPath(null!, 1));
    }
}
