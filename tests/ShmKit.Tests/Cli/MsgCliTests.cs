using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ShmKit.Tests.Cli;

/// <summary>End-to-end tests of <c>shmkit msg</c>: the real CLI process against real message queues.</summary>
public class MsgCliTests
{
    [Fact]
    public void Create_With_Key_Then_List_Info_And_Rm()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();

        string created = Shmkit.Ok("msg", "create", "--key", key.ToString(), "--mode", "640");
        int id = Shmkit.ParseId(created);
        Assert.Contains(key.ToString(), created, StringComparison.Ordinal);
        var queue = MessageQueue.Open(key);
        Assert.Equal(id, queue.Id);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, queue.Stat().Mode);
        queue.Send(1, "12345"u8);
        queue.Send(2, "678"u8);

        // list: an ipcs -q style row with key, msqid, owner, perms, used-bytes, messages.
        string row = Shmkit.Ok("msg", "list").Split('\n').Single(l => l.StartsWith(key.ToString(), StringComparison.Ordinal));
        Assert.Equal([key.ToString(), id.ToString(CultureInfo.InvariantCulture), Environment.UserName, "0640", "8", "2"], row.Split(' ', StringSplitOptions.RemoveEmptyEntries));

        var fromList = JsonDocument.Parse(Shmkit.Ok("msg", "list", "--json")).RootElement.EnumerateArray().Single(e => e.GetProperty("id").GetInt32() == id);
        Assert.Equal(key.ToString(), fromList.GetProperty("key").GetString());
        Assert.Equal(8, fromList.GetProperty("usedBytes").GetInt64());
        Assert.Equal(2, fromList.GetProperty("messages").GetInt64());

        var info = JsonDocument.Parse(Shmkit.Ok("msg", "info", key.ToString(), "--json")).RootElement;
        Assert.Equal(id, info.GetProperty("id").GetInt32());
        Assert.Equal("0640", info.GetProperty("mode").GetString());
        Assert.Equal(queue.Stat().MaxBytes, info.GetProperty("maxBytes").GetInt64());
        Assert.Equal(Environment.ProcessId, info.GetProperty("lastSendPid").GetInt32());
        Assert.Equal(0, info.GetProperty("lastReceivePid").GetInt32());
        Assert.Equal(JsonValueKind.String, info.GetProperty("lastSendTime").ValueKind);
        Assert.Equal(JsonValueKind.Null, info.GetProperty("lastReceiveTime").ValueKind);

        string table = Shmkit.Ok("msg", "info", "--id", id.ToString(CultureInfo.InvariantCulture));
        Assert.True(table.All(c => char.IsAscii(c) && c != '\u001b'), "redirected tables are plain ASCII");
        Assert.Contains("messages (qnum)", table, StringComparison.Ordinal);

        Assert.Contains($"removed message queue id {id} (key {key})", Shmkit.Ok("msg", "rm", key.ToString()), StringComparison.Ordinal);
        Assert.Throws<IpcObjectNotFoundException>(() => MessageQueue.OpenById(id));
    }

    [Fact]
    public void Create_Is_Private_By_Default_Opens_Existing_And_Honours_Exclusive()
    {
        using var cleanup = new IpcCleanup();
        var result = JsonDocument.Parse(Shmkit.Ok("msg", "create", "--json")).RootElement;
        int id = result.GetProperty("id").GetInt32();
        cleanup.AddId('q', id);
        Assert.Equal("0x00000000", result.GetProperty("key").GetString());
        Assert.True(result.GetProperty("created").GetBoolean());
        Assert.Equal(MessageQueue.DefaultMode, MessageQueue.OpenById(id).Stat().Mode);

        var key = cleanup.NewKey();
        var existing = MessageQueue.CreateNew(key);
        var opened = JsonDocument.Parse(Shmkit.Ok("msg", "create", "--key", key.ToString(), "--json")).RootElement;
        Assert.Equal(existing.Id, opened.GetProperty("id").GetInt32());
        Assert.False(opened.GetProperty("created").GetBoolean());
        Assert.Contains("already exists", Shmkit.Run("msg", "create", "--key", key.ToString(), "--exclusive").AssertError(ExitCode.Exists), StringComparison.Ordinal);
    }

    [Fact]
    public void Send_Then_Recv_Round_Trips_Text_Hex_Stdin_And_File()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var queue = MessageQueue.CreateNew(key);
        string k = key.ToString();

        Assert.Contains("sent 11 bytes as type 1", Shmkit.Ok("msg", "send", k, "--text", "hello world"), StringComparison.Ordinal);
        Assert.Equal("hello world\n", Shmkit.Ok("msg", "recv", k, "--text"));

        Shmkit.Ok("msg", "send", k, "--type", "7", "--hex", "de ad 00 ef");
        Assert.Equal("7\tdead00ef\n", Shmkit.Ok("msg", "recv", k, "--hex", "--show-type"));

        byte[] data = [.. Enumerable.Range(0, 300).Select(i => (byte)i)];
        Assert.Contains("sent 300 bytes", Shmkit.RunWithInput(data, "msg", "send", k, "--type", "3").AssertSuccess(), StringComparison.Ordinal);
        Assert.Equal(Convert.ToHexStringLower(data) + "\n", Shmkit.Ok("msg", "recv", k, "--hex"));

        // An empty message is a message too.
        Shmkit.RunWithInput([], "msg", "send", k).AssertSuccess();
        Assert.Equal("1\t\n", Shmkit.Ok("msg", "recv", k, "--hex", "--show-type"));

        string file = Path.GetTempFileName();
        string received = Path.GetTempFileName();
        try
        {
            byte[] contents = [.. Enumerable.Range(0, 5000).Select(i => (byte)(i * 31))];
            File.WriteAllBytes(file, contents);
            Shmkit.Ok("msg", "send", "--id", queue.Id.ToString(CultureInfo.InvariantCulture), "--type", "9", "--file", file);
            Assert.Contains("type 9", Shmkit.Ok("msg", "recv", k, "--out", received), StringComparison.Ordinal);
            Assert.Equal(contents, File.ReadAllBytes(received));

            // Raw output (the default) is exactly the payload.
            queue.Send(1, "raw\u00e9"u8.ToArray());
            Assert.Equal("raw\u00e9\n", Shmkit.Ok("msg", "recv", k));
        }
        finally
        {
            File.Delete(file);
            File.Delete(received);
        }

        Assert.Equal(0, queue.Stat().MessageCount);
    }

    [Fact]
    public void Recv_Selects_By_Type()
    {
        using var cleanup = new IpcCleanup();
        var queue = MessageQueue.CreatePrivate();
        cleanup.AddId('q', queue.Id);
        string id = queue.Id.ToString(CultureInfo.InvariantCulture);
        foreach (var (type, text) in new[] { (5L, "five"), (2L, "two"), (9L, "nine"), (5L, "five again") })
        {
            queue.Send(type, Encoding.UTF8.GetBytes(text));
        }

        Assert.Equal("2\ttwo\n", Shmkit.Ok("msg", "recv", "--id", id, "--type", "5", "--except", "--text", "--show-type")); // first not of type 5
        Assert.Equal("9\tnine\n", Shmkit.Ok("msg", "recv", "--id", id, "--type", "9", "--text", "--show-type"));
        Assert.Equal("5\tfive\n", Shmkit.Ok("msg", "recv", "--id", id, "--type", "-6", "--text", "--show-type")); // lowest type <= 6
        Assert.Equal("five again\n", Shmkit.Ok("msg", "recv", "--id", id, "--text"));
        Assert.Equal(0, queue.Stat().MessageCount);
    }

    [Fact]
    public void Recv_And_Send_Time_Out_Or_Fail_With_Nowait_With_The_Timeout_Code()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var queue = MessageQueue.CreateNew(key);
        string k = key.ToString();

        string error = Shmkit.Run("msg", "recv", k, "--timeout", "300ms").AssertError(ExitCode.Timeout);
        Assert.Contains("timed out after 300 ms", error, StringComparison.Ordinal);
        Assert.Contains("--nowait", Shmkit.Run("msg", "recv", k, "--type", "4", "--nowait").AssertError(ExitCode.Timeout), StringComparison.Ordinal);

        // Fill the queue: send --nowait fails, send --timeout times out, and nothing is added.
        byte[] chunk = new byte[1024];
        while (queue.TrySend(1, chunk))
        {
        }

        long count = queue.Stat().MessageCount;
        Assert.Contains("full", Shmkit.Run("msg", "send", k, "--text", "x", "--nowait").AssertError(ExitCode.Timeout), StringComparison.Ordinal);
        Assert.Contains("timed out", Shmkit.Run("msg", "send", k, "--hex", "01", "--timeout", "0.3s").AssertError(ExitCode.Timeout), StringComparison.Ordinal);
        Assert.Equal(count, queue.Stat().MessageCount);
    }

    [Fact]
    public void A_Message_Longer_Than_Max_Bytes_Stays_Unless_Truncate()
    {
        using var cleanup = new IpcCleanup();
        var queue = MessageQueue.CreatePrivate();
        cleanup.AddId('q', queue.Id);
        string id = queue.Id.ToString(CultureInfo.InvariantCulture);
        queue.Send(1, "abcdef"u8);

        Assert.Contains("--truncate", Shmkit.Run("msg", "recv", "--id", id, "--max-bytes", "3").AssertError(ExitCode.TooLarge), StringComparison.Ordinal);
        Assert.Equal(1, queue.Stat().MessageCount);
        Assert.Equal("abc\n", Shmkit.Ok("msg", "recv", "--id", id, "--max-bytes", "3", "--truncate", "--text"));
        Assert.Equal(0, queue.Stat().MessageCount);
    }

    [Fact]
    public void A_Waiting_Recv_Gets_A_Message_Sent_Later()
    {
        using var cleanup = new IpcCleanup();
        var queue = MessageQueue.CreatePrivate();
        cleanup.AddId('q', queue.Id);
        string id = queue.Id.ToString(CultureInfo.InvariantCulture);

        using var receiver = ChildProcess.StartCli("msg", "recv", "--id", id, "--type", "4", "--text", "--timeout", "30s");
        Shmkit.Ok("msg", "send", "--id", id, "--type", "3", "--text", "not this one");
        Shmkit.Ok("msg", "send", "--id", id, "--type", "4", "--text", "this one");
        Assert.Equal(0, receiver.WaitForExit(TimeSpan.FromSeconds(20)));
        Assert.Equal("this one\n", receiver.StandardOutput);
        Assert.Equal(1, queue.Stat().MessageCount);
    }

    [Fact]
    public void Works_On_A_Queue_Made_By_Ipcmk()
    {
        using var cleanup = new IpcCleanup();
        using var ipcmk = ChildProcess.Start("ipcmk", ["-Q"]);
        Assert.Equal(0, ipcmk.WaitForExit(TimeSpan.FromSeconds(10)));
        int id = Shmkit.ParseId(ipcmk.StandardOutput);
        cleanup.AddId('q', id);
        string idText = id.ToString(CultureInfo.InvariantCulture);

        var info = JsonDocument.Parse(Shmkit.Ok("msg", "info", "--id", idText, "--json")).RootElement;
        Assert.Equal("0644", info.GetProperty("mode").GetString()); // ipcmk's default mode
        string key = info.GetProperty("key").GetString()!;
        Assert.Contains(Shmkit.Ok("msg", "list").Split('\n'), l => l.StartsWith(key + " ", StringComparison.Ordinal));

        Shmkit.Ok("msg", "send", key, "--type", "2", "--text", "via ipcmk");
        Assert.Equal("via ipcmk\n", Shmkit.Ok("msg", "recv", "--id", idText, "--text"));

        Shmkit.Ok("msg", "rm", "--id", idText);
        Assert.Throws<IpcObjectNotFoundException>(() => MessageQueue.OpenById(id));
    }

    [Fact]
    public void Unknown_Queues_Are_One_Line_Errors_And_Rm_Tries_Every_Argument()
    {
        using var cleanup = new IpcCleanup();
        var missing = cleanup.NewKey();
        Assert.Contains(missing.ToString(), Shmkit.Run("msg", "info", missing.ToString()).AssertError(ExitCode.NotFound), StringComparison.Ordinal);
        Shmkit.Run("msg", "send", "--id", "2147483000", "--text", "x").AssertError(ExitCode.NotFound);
        Assert.Contains("--id 2147483000", Shmkit.Run("msg", "recv", "2147483000", "--nowait").AssertError(ExitCode.NotFound), StringComparison.Ordinal);

        var first = MessageQueue.CreatePrivate();
        cleanup.AddId('q', first.Id);
        var result = Shmkit.Run("msg", "rm", missing.ToString(), "--id", first.Id.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(ExitCode.NotFound, result.ExitCode);
        Assert.Contains($"removed message queue id {first.Id}", result.Stdout, StringComparison.Ordinal);
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain(MessageQueue.GetAll(), q => q.Id == first.Id);
    }

    [Theory]
    [InlineData("msg", "create", "--key", "0x1", "--private")]
    [InlineData("msg", "create", "--mode", "999")]
    [InlineData("msg", "send", "--id", "0", "--type", "0", "--text", "x")]
    [InlineData("msg", "send", "--id", "0", "--text", "x", "--hex", "00")]
    [InlineData("msg", "send", "--id", "0", "--hex", "0")]
    [InlineData("msg", "send", "--id", "0", "--text", "x", "--nowait", "--timeout", "1s")]
    [InlineData("msg", "send", "--id", "0", "--type", "x", "--text", "x")]
    [InlineData("msg", "recv", "--id", "0", "--except")]
    [InlineData("msg", "recv", "--id", "0", "--type", "x", "--except")]
    [InlineData("msg", "recv", "--id", "0", "--type", "-3", "--except")]
    [InlineData("msg", "recv", "--id", "0", "--hex", "--text")]
    [InlineData("msg", "recv", "--id", "0", "--timeout", "soon")]
    [InlineData("msg", "info")]
    [InlineData("msg", "rm")]
    public void Bad_Arguments_Are_Usage_Errors(params string[] args) => Shmkit.Run(args).AssertError(2);
}
