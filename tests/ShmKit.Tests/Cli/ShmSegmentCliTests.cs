using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ShmKit.Tests.Cli;

/// <summary>End-to-end tests of the shared memory commands: the real CLI process against real segments.</summary>
public class ShmSegmentCliTests
{
    [Fact]
    public void Create_With_Key_Then_List_Info_And_Rm()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();

        string created = Shmkit.Ok("create", "--size", "64KiB", "--key", key.ToString(), "--mode", "640");
        int id = Shmkit.ParseId(created);
        Assert.Contains(key.ToString(), created, StringComparison.Ordinal);
        var segment = SharedMemorySegment.Open(key);
        Assert.Equal(id, segment.Id);
        Assert.Equal(65536, segment.Size);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, segment.Stat().Mode);

        // list: an ipcs -m style row with key, id, owner, perms, bytes, nattch.
        string row = Shmkit.Ok("list").Split('\n').Single(l => l.StartsWith(key.ToString(), StringComparison.Ordinal));
        string[] columns = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal([key.ToString(), id.ToString(CultureInfo.InvariantCulture), Environment.UserName, "0640", "65536", "0"], columns);

        // list --json and info --json: the same object, stable field names, no ANSI codes.
        string listJson = Shmkit.Ok("list", "--json");
        Assert.DoesNotContain('\u001b', listJson);
        var fromList = JsonDocument.Parse(listJson).RootElement.EnumerateArray().Single(e => e.GetProperty("id").GetInt32() == id);
        Assert.Equal(key.ToString(), fromList.GetProperty("key").GetString());
        Assert.Equal(65536, fromList.GetProperty("size").GetInt64());
        Assert.Equal("0640", fromList.GetProperty("mode").GetString());
        Assert.True(fromList.GetProperty("creatorPid").GetInt32() > 0);
        Assert.Equal(0, fromList.GetProperty("attachCount").GetInt64());
        Assert.False(fromList.GetProperty("markedForRemoval").GetBoolean());
        Assert.Equal(JsonValueKind.Null, fromList.GetProperty("lastAttachTime").ValueKind);

        using (var attachment = segment.Attach())
        {
            var info = JsonDocument.Parse(Shmkit.Ok("info", key.ToString(), "--json")).RootElement;
            Assert.Equal(id, info.GetProperty("id").GetInt32());
            Assert.Equal(1, info.GetProperty("attachCount").GetInt64());
            Assert.Equal(Environment.ProcessId, info.GetProperty("lastOperationPid").GetInt32());
            Assert.Equal(JsonValueKind.String, info.GetProperty("lastAttachTime").ValueKind);
        }

        string table = Shmkit.Ok("info", "--id", id.ToString(CultureInfo.InvariantCulture));
        Assert.True(table.All(c => char.IsAscii(c) && c != '\u001b'), "redirected tables are plain ASCII: no ANSI codes, no box drawing");
        Assert.Contains(key.ToString(), table, StringComparison.Ordinal);
        Assert.Contains("65536", table, StringComparison.Ordinal);
        Assert.Contains("0640", table, StringComparison.Ordinal);

        Assert.Contains($"removed shared memory segment id {id}", Shmkit.Ok("rm", key.ToString()), StringComparison.Ordinal);
        Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.Open(key));
    }

    [Fact]
    public void Create_Is_Private_By_Default_Opens_Existing_And_Honours_Exclusive()
    {
        using var cleanup = new IpcCleanup();
        var result = JsonDocument.Parse(Shmkit.Ok("create", "--size", "4096", "--json")).RootElement;
        int id = result.GetProperty("id").GetInt32();
        cleanup.AddId('m', id);
        Assert.Equal("0x00000000", result.GetProperty("key").GetString());
        Assert.True(result.GetProperty("created").GetBoolean());
        Assert.Equal(SharedMemorySegment.DefaultMode, SharedMemorySegment.OpenById(id).Stat().Mode);

        var key = cleanup.NewKey();
        var existing = cleanup.Add(SharedMemorySegment.CreateNew(key, 8192));
        var opened = JsonDocument.Parse(Shmkit.Ok("create", "--size", "4K", "--key", key.ToString(), "--json")).RootElement;
        Assert.Equal(existing.Id, opened.GetProperty("id").GetInt32());
        Assert.False(opened.GetProperty("created").GetBoolean());

        string error = Shmkit.Run("create", "--size", "4K", "--key", key.ToString(), "--exclusive").AssertError(ExitCode.Exists);
        Assert.Contains("already exists", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_Touches_Only_The_Named_Bytes_And_Read_Returns_Them()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var segment = cleanup.Add(SharedMemorySegment.CreateNew(key, 4096));
        using var attachment = segment.Attach();
        attachment.FillAll(0xAA);

        Shmkit.Ok("write", key.ToString(), "--offset", "0x100", "--hex", "de ad be ef");
        Assert.Equal(0xAA, attachment.Read<byte>(0xFF));
        Assert.Equal([0xDE, 0xAD, 0xBE, 0xEF], attachment.ReadAt(0x100, 4));
        Assert.Equal(0xAA, attachment.Read<byte>(0x104));

        Shmkit.Ok("write", key.ToString(), "--offset", "1000", "--text", "hello");
        Shmkit.Ok("write", key.ToString(), "--offset", "1005", "--hex", "00");
        Assert.Equal("hello", Shmkit.Ok("read", key.ToString(), "--offset", "1000", "--length", "64", "--text").TrimEnd('\n'));
        // Raw bytes, no newline (ChildProcess collects stdout by lines and ends each with one; --out below checks exact bytes).
        Assert.Equal("hello\n", Shmkit.Ok("read", key.ToString(), "--offset", "1000", "--length", "5"));
        Assert.Equal("aadeadbeefaa", Shmkit.Ok("read", key.ToString(), "--offset", "255", "--length", "6", "--hex").TrimEnd('\n'));

        string file = Path.GetTempFileName();
        try
        {
            Shmkit.Ok("read", "--id", segment.Id.ToString(CultureInfo.InvariantCulture), "--out", file);
            Assert.Equal(attachment.ReadAll(), File.ReadAllBytes(file));

            File.WriteAllBytes(file, [1, 2, 3]);
            Shmkit.Ok("write", key.ToString(), "--offset", "4093", "--file", file);
            Assert.Equal([1, 2, 3], attachment.ReadAt(4093, 3));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Write_Reads_Stdin_When_No_Data_Option_Is_Given()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(1024));
        byte[] data = [.. Enumerable.Range(0, 300).Select(i => (byte)i)];

        var result = Shmkit.RunWithInput(data, "write", "--id", segment.Id.ToString(CultureInfo.InvariantCulture), "--offset", "700");
        Assert.Contains("wrote 300 bytes at offset 700", result.AssertSuccess(), StringComparison.Ordinal);
        using var attachment = segment.AttachReadOnly();
        Assert.Equal(data, attachment.ReadAt(700, 300));
        Assert.Equal(0, attachment.Read<byte>(699));
    }

    [Fact]
    public void Dump_Matches_Hexdump_C()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(300));
        string file = Path.GetTempFileName();
        try
        {
            using (var attachment = segment.Attach())
            {
                // Text, a run of identical zero lines (the '*' line), bytes outside ASCII, and a partial last line.
                attachment.WriteBytes(0, Encoding.ASCII.GetBytes("shmkit dump test: hello, world!"));
                for (int i = 200; i < 300; i++)
                {
                    attachment.Write(i, (byte)(i * 7));
                }

                File.WriteAllBytes(file, attachment.ReadAll());
            }

            string id = segment.Id.ToString(CultureInfo.InvariantCulture);
            Assert.Equal(Hexdump(file), Shmkit.Ok("dump", "--id", id));
            Assert.Equal(Hexdump(file, "-s", "3", "-n", "250"), Shmkit.Ok("dump", "--id", id, "--offset", "3", "--length", "250"));
            Assert.Equal(Hexdump(file, "-s", "290"), Shmkit.Ok("dump", "--id", id, "--offset", "290"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Works_On_A_Segment_Made_By_Ipcmk()
    {
        using var cleanup = new IpcCleanup();
        using var ipcmk = ChildProcess.Start("ipcmk", ["-M", "1000"]);
        Assert.Equal(0, ipcmk.WaitForExit(TimeSpan.FromSeconds(10)));
        int id = Shmkit.ParseId(ipcmk.StandardOutput);
        cleanup.AddId('m', id);
        string idText = id.ToString(CultureInfo.InvariantCulture);

        var info = JsonDocument.Parse(Shmkit.Ok("info", "--id", idText, "--json")).RootElement;
        Assert.Equal(1000, info.GetProperty("size").GetInt64());
        Assert.Equal("0644", info.GetProperty("mode").GetString()); // ipcmk's default mode

        // ipcmk gives the segment a random key: the key works as well as the id.
        string key = info.GetProperty("key").GetString()!;
        Shmkit.Ok("write", key, "--offset", "990", "--text", "0123456789");
        Assert.Equal("0123456789", Shmkit.Ok("read", "--id", idText, "--offset", "990", "--text").TrimEnd('\n'));
        Assert.Contains(Shmkit.Ok("list").Split('\n'), l => l.StartsWith(key + " ", StringComparison.Ordinal) && l.Contains(" 1000 ", StringComparison.Ordinal));

        Shmkit.Ok("rm", "--id", idText);
        Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.OpenById(id));
    }

    [EnvironmentFact(Needs.Gcc)]
    public void Reads_And_Writes_A_Segment_Shared_With_A_C_Program()
    {
        const string source = """
            #include <stdio.h>
            #include <stdlib.h>
            #include <string.h>
            #include <sys/ipc.h>
            #include <sys/shm.h>

            /* prog KEY create: make a 4096-byte segment and write a string at offset 64.
               prog KEY print:  print the string at offset 128. */
            int main(int argc, char **argv) {
                key_t key = (key_t)strtoul(argv[1], NULL, 0);
                int create = strcmp(argv[2], "create") == 0;
                int id = shmget(key, 4096, create ? IPC_CREAT | IPC_EXCL | 0600 : 0);
                if (id < 0) { perror("shmget"); return 1; }
                char *p = shmat(id, NULL, 0);
                if (p == (void *)-1) { perror("shmat"); return 1; }
                if (create) strcpy(p + 64, "hello from C");
                else printf("%s\n", p + 128);
                shmdt(p);
                return 0;
            }
            """;
        using var program = NativeProgram.Compile(source, "shm_c_peer");
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        Assert.Equal(0, program.Run(key.ToString(), "create").ExitCode);

        Assert.Equal("hello from C", Shmkit.Ok("read", key.ToString(), "--offset", "64", "--length", "32", "--text").TrimEnd('\n'));
        Assert.Contains("|hello from C....|", Shmkit.Ok("dump", key.ToString(), "--offset", "64", "--length", "16"), StringComparison.Ordinal);

        Shmkit.Ok("write", key.ToString(), "--offset", "128", "--text", "hello from shmkit");
        var (code, stdout, _) = program.Run(key.ToString(), "print");
        Assert.Equal(0, code);
        Assert.Equal("hello from shmkit", stdout.TrimEnd('\n'));
    }

    [Fact]
    public void Path_ProjId_Keys_Are_Ftok_Keys()
    {
        using var cleanup = new IpcCleanup();
        string file = Path.GetTempFileName();
        try
        {
            var key = cleanup.AddKey(IpcKey.FromPath(file, 65));
            string created = Shmkit.Ok("create", "--size", "1KiB", "--key", file + ":65");
            Assert.Contains(key.ToString(), created, StringComparison.Ordinal);
            Assert.Equal(Shmkit.ParseId(created), SharedMemorySegment.Open(key).Id);

            Shmkit.Ok("write", file + ":A", "--text", "ftok"); // 'A' is project id 65, as in ftok(path, 'A')
            Assert.Equal("ftok\n", Shmkit.Ok("read", file + ":65", "--length", "4"));
            Shmkit.Ok("rm", file + ":65");
            Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.Open(key));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Rm_Tries_Every_Argument_And_Fails_If_Any_Failed()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var missing = cleanup.NewKey();
        var keyed = cleanup.Add(SharedMemorySegment.CreateNew(key, 4096));
        var first = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        var second = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));

        var result = Shmkit.Run("rm", key.ToString(), missing.ToString(),
            "--id", first.Id.ToString(CultureInfo.InvariantCulture), "--id", second.Id.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(ExitCode.NotFound, result.ExitCode);
        Assert.Contains($"removed shared memory segment id {keyed.Id} (key {key})", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"removed shared memory segment id {first.Id}", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"removed shared memory segment id {second.Id}", result.Stdout, StringComparison.Ordinal);
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(missing.ToString(), result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(SharedMemorySegment.GetAll(), s => s.Id == keyed.Id || s.Id == first.Id || s.Id == second.Id);
    }

    [Fact]
    public void Limits_Reports_The_Kernel_Values()
    {
        var expected = SharedMemorySegment.GetLimits();
        var limits = JsonDocument.Parse(Shmkit.Ok("limits", "--json")).RootElement;
        Assert.Equal(expected.MaxSegmentSize, limits.GetProperty("shmmax").GetUInt64());
        Assert.Equal(expected.MaxSegments, limits.GetProperty("shmmni").GetUInt64());
        Assert.Equal(expected.MaxTotalPages, limits.GetProperty("shmall").GetUInt64());
        Assert.Equal(Environment.SystemPageSize, limits.GetProperty("pageSize").GetInt32());
        Assert.True(limits.GetProperty("segmentsInUse").GetInt32() >= 0);

        string table = Shmkit.Ok("limits");
        Assert.Contains("shmmax", table, StringComparison.Ordinal);
        Assert.Contains(expected.MaxSegments.ToString(CultureInfo.InvariantCulture), table, StringComparison.Ordinal);
    }

    private static string Hexdump(string file, params string[] args)
    {
        using var hexdump = ChildProcess.Start("hexdump", ["-C", .. args, file]);
        Assert.Equal(0, hexdump.WaitForExit(TimeSpan.FromSeconds(10)));
        return hexdump.StandardOutput;
    }
}
