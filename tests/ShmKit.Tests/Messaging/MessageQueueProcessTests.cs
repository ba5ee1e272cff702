using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.Versioning;
using System.Text;

namespace ShmKit.Tests.Messaging;

/// <summary>
/// Message queues across real processes: ShmKit.TestChild, a C program, another user (setpriv), and the kernel's
/// own views (/proc/sysvipc/msg, /proc/sys/kernel/msg*).
/// </summary>
[SupportedOSPlatform("linux")]
public class MessageQueueProcessTests
{
    private const int NobodyId = 65534;
    private const int CapSysResource = 24;

    [Fact]
    public void Child_Sends_Mixed_Types_And_Parent_Receives_Them_In_Order()
    {
        using var cleanup = new IpcCleanup();
        var queue = MessageQueueTests.NewQueue(cleanup);
        const int count = 300; // about 46 KB: more than the queue holds, so the child blocks until the parent reads
        using var child = ChildProcess.StartChild("msgq-send", Invariant(queue.Id), Invariant(count));
        child.WaitForLine("READY");

        Span<byte> expected = stackalloc byte[512];
        Span<byte> buffer = stackalloc byte[512];
        for (int i = 0; i < count; i++)
        {
            var (expectedType, expectedLength) = Expected(i, expected);
            int length = queue.Receive(buffer, out long type, timeout: TimeSpan.FromSeconds(20));
            Assert.Equal(expectedType, type);
            Assert.True(buffer[..length].SequenceEqual(expected[..expectedLength]), $"message {i} differs");
        }

        child.WaitForLine($"SENT {count}");
        Assert.Equal(0, child.WaitForExit(TimeSpan.FromSeconds(20)));
        var info = queue.Stat();
        Assert.Equal(child.Id, info.LastSendProcessId);
        Assert.Equal(Environment.ProcessId, info.LastReceiveProcessId);
        Assert.Equal(0, info.MessageCount);
    }

    [Fact]
    public void Parent_Sends_Mixed_Types_And_Child_Receives_Them_In_Order()
    {
        using var cleanup = new IpcCleanup();
        var queue = MessageQueueTests.NewQueue(cleanup);
        const int count = 300;
        using var child = ChildProcess.StartChild("msgq-receive", Invariant(queue.Id), Invariant(count));
        child.WaitForLine("READY");

        Span<byte> payload = stackalloc byte[512];
        for (int i = 0; i < count; i++)
        {
            var (type, length) = Expected(i, payload);
            queue.Send(type, payload[..length], TimeSpan.FromSeconds(20));
        }

        child.WaitForLine($"RECEIVED {count}");
        Assert.Equal(0, child.WaitForExit(TimeSpan.FromSeconds(20)));
        var info = queue.Stat();
        Assert.Equal(Environment.ProcessId, info.LastSendProcessId);
        Assert.Equal(child.Id, info.LastReceiveProcessId);
    }

    [EnvironmentFact(Needs.Gcc)]
    public void C_Program_And_ShmKit_Exchange_Messages_Both_Ways()
    {
        using var cleanup = new IpcCleanup();
        var queue = MessageQueueTests.NewQueue(cleanup);
        using var program = NativeProgram.Compile(CProgram, "msgq");

        // C sends, ShmKit receives: types 1..3 and text, in order.
        var (code, stdout, stderr) = program.Run("send", Invariant(queue.Id), "20");
        Assert.True(code == 0, stderr);
        Assert.Contains("SENT 20", stdout, StringComparison.Ordinal);
        byte[] buffer = new byte[8192];
        for (int i = 0; i < 20; i++)
        {
            int length = queue.Receive(buffer, out long type, timeout: TimeSpan.FromSeconds(5));
            Assert.Equal((i % 3) + 1, type);
            Assert.Equal($"c-message {i} type {type}", Encoding.ASCII.GetString(buffer, 0, length));
        }

        // ShmKit sends, C receives with selector 0 (everything, in order) ...
        for (int i = 0; i < 10; i++)
        {
            queue.Send(100 + (i % 4), Encoding.ASCII.GetBytes($"dotnet-message {i}"));
        }

        (code, stdout, stderr) = program.Run("recv", Invariant(queue.Id), "6", "0");
        Assert.True(code == 0, stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(6, lines.Length);
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal($"type={100 + (i % 4)} len={$"dotnet-message {i}".Length} text=dotnet-message {i}", lines[i]);
        }

        // ... and with a negative selector: the lowest type <= 102 first (messages 8 (100) and 9 (101) remain of
        // those, after 6 (102) and 7 (103)).
        (code, stdout, stderr) = program.Run("recv", Invariant(queue.Id), "3", "-102");
        Assert.True(code == 0, stderr);
        lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["type=100 len=16 text=dotnet-message 8", "type=101 len=16 text=dotnet-message 9", "type=102 len=16 text=dotnet-message 6"], lines);
        Assert.Equal(1, queue.Stat().MessageCount);
    }

    [EnvironmentFact(Needs.Root | Needs.UtilLinux)]
    public void Another_User_Is_Denied_A_0600_Queue_Until_It_Owns_It()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var queue = MessageQueue.CreateNew(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        queue.Send(1, "secret"u8);
        string childDirectory = ReadableChildDirectory(out string? copy);
        try
        {
            string output = RunAsNobody(childDirectory, "msgq-access", key.ToString());
            Assert.Contains("open: ok", output, StringComparison.Ordinal);
            Assert.Contains("send: IpcAccessDeniedException", output, StringComparison.Ordinal);
            Assert.Contains("receive: IpcAccessDeniedException", output, StringComparison.Ordinal);
            Assert.Contains("stat: IpcAccessDeniedException", output, StringComparison.Ordinal);
            Assert.Equal(1, queue.Stat().MessageCount);

            // Given to nobody: it may now use the queue, and lower its capacity, but not raise it above msgmnb.
            queue.SetOwner(NobodyId, NobodyId);
            output = RunAsNobody(childDirectory, "msgq-access", key.ToString());
            Assert.Contains("send: ok", output, StringComparison.Ordinal);
            Assert.Contains("receive: ok", output, StringComparison.Ordinal);
            Assert.Contains("stat: ok", output, StringComparison.Ordinal);

            int msgmnb = MessageQueue.GetLimits().MaxQueueBytes;
            output = RunAsNobody(childDirectory, "msgq-setmaxbytes", Invariant(queue.Id), Invariant(msgmnb + 1));
            Assert.Contains("setmaxbytes: IpcAccessDeniedException", output, StringComparison.Ordinal);
            Assert.Contains($"msgmnb={msgmnb}", output, StringComparison.Ordinal);
            Assert.Contains("CAP_SYS_RESOURCE", output, StringComparison.Ordinal);
            output = RunAsNobody(childDirectory, "msgq-setmaxbytes", Invariant(queue.Id), "1000");
            Assert.Contains("setmaxbytes: ok", output, StringComparison.Ordinal);
            Assert.Equal(1000, queue.Stat().MaxBytes);
        }
        finally
        {
            if (copy is not null)
            {
                Directory.Delete(copy, recursive: true);
            }
        }
    }

    [EnvironmentFact(Needs.Root | Needs.UtilLinux)]
    public void An_Owner_Who_May_Only_Send_Opens_By_Key_And_Id_Sends_And_Removes()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var (code, stdout, stderr) = Segments.SegmentTestSupport.RunChildAsNobody("msgq-unreadable", key.ToString());
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Segments.SegmentTestSupport.AssertOutcomes(
            stdout,
            ("create", "ok"),
            ("send-by-key", "ok"),
            ("open-or-create", "ok"),
            ("send-by-id", "ok"),
            ("remove-by-id", "ok"));
        Assert.DoesNotContain("LEAKED", stdout, StringComparison.Ordinal);
        Assert.Throws<IpcObjectNotFoundException>(() => MessageQueue.Open(key));
    }

    [Fact]
    public void Stat_Reports_Counts_Pids_Times_And_Settings()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var before = DateTimeOffset.UtcNow.AddSeconds(-2);
        var queue = MessageQueue.CreateNew(key);
        var limits = MessageQueue.GetLimits();

        var info = queue.Stat();
        Assert.Equal(key, info.Key);
        Assert.Equal(queue.Id, info.Id);
        Assert.Equal(MessageQueue.DefaultMode, info.Mode);
        Assert.Equal(0u, info.OwnerUserId);
        Assert.Equal(0u, info.CreatorUserId);
        Assert.Equal(0u, info.OwnerGroupId);
        Assert.Equal(0u, info.CreatorGroupId);
        Assert.Equal(0, info.MessageCount);
        Assert.Equal(0, info.CurrentBytes);
        Assert.Equal(limits.MaxQueueBytes, info.MaxBytes);
        Assert.Null(info.LastSendTime);
        Assert.Null(info.LastReceiveTime);
        Assert.InRange(info.LastChangeTime!.Value, before, DateTimeOffset.UtcNow.AddSeconds(2));
        Assert.Equal(0, info.LastSendProcessId);
        Assert.Equal(0, info.LastReceiveProcessId);

        queue.Send(1, new byte[10]);
        queue.Send(2, new byte[20]);
        info = queue.Stat();
        Assert.Equal(2, info.MessageCount);
        Assert.Equal(30, info.CurrentBytes);
        Assert.Equal(Environment.ProcessId, info.LastSendProcessId);
        Assert.InRange(info.LastSendTime!.Value, before, DateTimeOffset.UtcNow.AddSeconds(2));
        Assert.Null(info.LastReceiveTime);

        queue.Receive(new byte[64], out _, 1);
        info = queue.Stat();
        Assert.Equal(1, info.MessageCount);
        Assert.Equal(20, info.CurrentBytes);
        Assert.Equal(Environment.ProcessId, info.LastReceiveProcessId);
        Assert.InRange(info.LastReceiveTime!.Value, before, DateTimeOffset.UtcNow.AddSeconds(2));

        using (var child = ChildProcess.StartChild("msgq-send", Invariant(queue.Id), "1"))
        {
            child.WaitForLine("SENT 1");
            Assert.Equal(0, child.WaitForExit(TimeSpan.FromSeconds(20)));
            Assert.Equal(child.Id, queue.Stat().LastSendProcessId);
        }

        // Capacity: lower, then above msgmnb, which needs CAP_SYS_RESOURCE (root without it is refused: containers
        // often drop it, and this project's sandbox does).
        queue.SetMaxBytes(1000);
        Assert.Equal(1000, queue.Stat().MaxBytes);
        long raised = limits.MaxQueueBytes * 4L;
        if (HasCapability(CapSysResource))
        {
            queue.SetMaxBytes(raised);
        }
        else
        {
            var denied = Assert.Throws<IpcAccessDeniedException>(() => queue.SetMaxBytes(raised));
            Assert.Contains("CAP_SYS_RESOURCE", denied.Message, StringComparison.Ordinal);
            Assert.Contains($"msgmnb={limits.MaxQueueBytes}", denied.Message, StringComparison.Ordinal);
            Assert.Equal(1000, queue.Stat().MaxBytes);
            raised = limits.MaxQueueBytes;
            queue.SetMaxBytes(raised);
        }

        Assert.Equal(raised, queue.Stat().MaxBytes);
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.SetMaxBytes(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.SetMaxBytes(1L + int.MaxValue));

        // Mode and owner; the capacity survives both (IPC_SET passes it back).
        queue.SetMode(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        queue.SetOwner(1234, 5678);
        info = queue.Stat();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, info.Mode);
        Assert.Equal(1234u, info.OwnerUserId);
        Assert.Equal(5678u, info.OwnerGroupId);
        Assert.Equal(0u, info.CreatorUserId);
        Assert.Equal(raised, info.MaxBytes);
        Assert.Throws<ArgumentOutOfRangeException>(() => queue.SetMode((UnixFileMode)0x400));
    }

    [Fact]
    public void GetAll_And_GetLimits_Match_The_Kernel_Views_In_Proc()
    {
        using var cleanup = new IpcCleanup();
        var keyed = MessageQueue.CreateNew(cleanup.NewKey(), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var anonymous = MessageQueueTests.NewQueue(cleanup);
        keyed.Send(4, new byte[123]);
        keyed.Send(5, new byte[7]);
        anonymous.Send(1, new byte[1]);
        anonymous.Receive(new byte[1], out _);

        var procBefore = ReadProcSysvipcMsg();
        var all = MessageQueue.GetAll();
        var proc = ReadProcSysvipcMsg();
        foreach (var queue in new[] { keyed, anonymous })
        {
            var info = Assert.Single(all, q => q.Id == queue.Id);
            Assert.Equal(info, queue.Stat());
            var row = proc[queue.Id];
            Assert.Equal(int.Parse(row["key"], CultureInfo.InvariantCulture), info.Key.Value);
            Assert.Equal(Convert.ToInt32(row["perms"], 8), (int)info.Mode);
            Assert.Equal(long.Parse(row["cbytes"], CultureInfo.InvariantCulture), info.CurrentBytes);
            Assert.Equal(long.Parse(row["qnum"], CultureInfo.InvariantCulture), info.MessageCount);
            Assert.Equal(int.Parse(row["lspid"], CultureInfo.InvariantCulture), info.LastSendProcessId);
            Assert.Equal(int.Parse(row["lrpid"], CultureInfo.InvariantCulture), info.LastReceiveProcessId);
            Assert.Equal(uint.Parse(row["uid"], CultureInfo.InvariantCulture), info.OwnerUserId);
            Assert.Equal(uint.Parse(row["gid"], CultureInfo.InvariantCulture), info.OwnerGroupId);
            Assert.Equal(uint.Parse(row["cuid"], CultureInfo.InvariantCulture), info.CreatorUserId);
            Assert.Equal(uint.Parse(row["cgid"], CultureInfo.InvariantCulture), info.CreatorGroupId);
            Assert.Equal(long.Parse(row["stime"], CultureInfo.InvariantCulture), info.LastSendTime?.ToUnixTimeSeconds() ?? 0);
            Assert.Equal(long.Parse(row["rtime"], CultureInfo.InvariantCulture), info.LastReceiveTime?.ToUnixTimeSeconds() ?? 0);
            Assert.Equal(long.Parse(row["ctime"], CultureInfo.InvariantCulture), info.LastChangeTime?.ToUnixTimeSeconds() ?? 0);
        }

        Assert.Equal(130, all.Single(q => q.Id == keyed.Id).CurrentBytes);
        Assert.Equal(2, all.Single(q => q.Id == keyed.Id).MessageCount);

        // Every queue /proc lists is in GetAll. Other processes may add or remove queues meanwhile, so only the ones
        // /proc listed both before and after GetAll are sure to have existed throughout it (ids are never reused
        // for a new queue: the kernel adds a sequence number to the index).
        Assert.All(procBefore.Keys.Where(proc.ContainsKey), id => Assert.Contains(all, q => q.Id == id));

        var limits = MessageQueue.GetLimits();
        Assert.Equal(ReadSysctl("msgmax"), limits.MaxMessageSize);
        Assert.Equal(ReadSysctl("msgmnb"), limits.MaxQueueBytes);
        Assert.Equal(ReadSysctl("msgmni"), limits.MaxQueues);
        Assert.True(limits.QueuesInUse >= 2);
        Assert.True(limits.MessagesInUse >= 2);
        Assert.True(limits.BytesInUse >= 130);
    }

    /// <summary>Message <paramref name="index"/> of the pattern the msgq-send and msgq-receive verbs use (MessageQueueVerbs.Expected).</summary>
    private static (long Type, int Length) Expected(int index, Span<byte> payload)
    {
        long type = (index % 5) + 1;
        int length = 4 + (index * 37 % 301);
        BinaryPrimitives.WriteInt32LittleEndian(payload, index);
        for (int j = 4; j < length; j++)
        {
            payload[j] = unchecked((byte)(index * 7 + j));
        }

        return (type, length);
    }

    /// <summary>Whether this process has a capability in its effective set (CapEff in /proc/self/status).</summary>
    private static bool HasCapability(int capability)
    {
        string line = File.ReadLines("/proc/self/status").Single(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        ulong effective = ulong.Parse(line["CapEff:".Length..].Trim(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        return (effective & (1UL << capability)) != 0;
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static int ReadSysctl(string name) =>
        int.Parse(File.ReadAllText($"/proc/sys/kernel/{name}").Trim(), CultureInfo.InvariantCulture);

    /// <summary>/proc/sysvipc/msg as id -> column -> value (the header line names the columns).</summary>
    private static Dictionary<int, Dictionary<string, string>> ReadProcSysvipcMsg()
    {
        string[] lines = File.ReadAllLines("/proc/sysvipc/msg");
        string[] header = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var rows = new Dictionary<int, Dictionary<string, string>>();
        foreach (string line in lines.Skip(1))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var row = header.Zip(fields).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);
            rows[int.Parse(row["msqid"], CultureInfo.InvariantCulture)] = row;
        }

        return rows;
    }

    /// <summary>
    /// Runs ShmKit.TestChild as uid/gid 65534 (nobody) without supplementary groups and returns its stdout.
    /// </summary>
    private static string RunAsNobody(string childDirectory, string verb, params string[] args)
    {
        using var child = ChildProcess.Start(
            "setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", ChildProcess.DotnetHost, Path.Combine(childDirectory, "ShmKit.TestChild.dll"), verb, .. args],
            new Dictionary<string, string> { ["HOME"] = "/tmp", ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" });
        int code = child.WaitForExit(TimeSpan.FromSeconds(60));
        Assert.True(code == 0, $"child as nobody exited with {code}:\n{child.StandardOutput}\n{child.StandardError}");
        return child.StandardOutput;
    }

    /// <summary>
    /// The directory of ShmKit.TestChild.dll if uid 65534 can read it (every directory up to the root searchable
    /// by others, the files readable by others); otherwise a copy of the files it needs in a new 0755 directory,
    /// returned in <paramref name="copy"/> for the caller to delete.
    /// </summary>
    private static string ReadableChildDirectory(out string? copy)
    {
        string directory = AppContext.BaseDirectory.TrimEnd('/');
        string[] files = ["ShmKit.TestChild.dll", "ShmKit.TestChild.runtimeconfig.json", "ShmKit.TestChild.deps.json", "ShmKit.dll"];
        bool readable = files.All(f => (File.GetUnixFileMode(Path.Combine(directory, f)) & UnixFileMode.OtherRead) != 0);
        for (var d = new DirectoryInfo(directory); readable && d is not null; d = d.Parent)
        {
            readable = (d.UnixFileMode & UnixFileMode.OtherExecute) != 0;
        }

        copy = null;
        if (readable)
        {
            return directory;
        }

        copy = Directory.CreateTempSubdirectory("shmkit-nobody-").FullName;
        File.SetUnixFileMode(copy, (UnixFileMode)0x1ED); // 0755
        foreach (string file in files)
        {
            string target = Path.Combine(copy, file);
            File.Copy(Path.Combine(directory, file), target);
            File.SetUnixFileMode(target, (UnixFileMode)0x1A4); // 0644
        }

        return copy;
    }

    /// <summary>msgq send &lt;id&gt; &lt;n&gt; | recv &lt;id&gt; &lt;n&gt; &lt;selector&gt;: the textbook C use of a queue.</summary>
    private const string CProgram = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/types.h>
        #include <sys/ipc.h>
        #include <sys/msg.h>

        struct message { long mtype; char mtext[8192]; };

        int main(int argc, char **argv)
        {
            if (argc < 4) { fprintf(stderr, "usage: msgq send|recv id n [selector]\n"); return 2; }
            int id = atoi(argv[2]);
            int n = atoi(argv[3]);
            struct message m;
            if (strcmp(argv[1], "send") == 0) {
                for (int i = 0; i < n; i++) {
                    m.mtype = i % 3 + 1;
                    int len = snprintf(m.mtext, sizeof m.mtext, "c-message %d type %ld", i, m.mtype);
                    if (msgsnd(id, &m, (size_t)len, 0) < 0) { perror("msgsnd"); return 1; }
                }
                printf("SENT %d\n", n);
                return 0;
            }
            long selector = argc > 4 ? atol(argv[4]) : 0;
            for (int i = 0; i < n; i++) {
                ssize_t len = msgrcv(id, &m, sizeof m.mtext, selector, IPC_NOWAIT);
                if (len < 0) { perror("msgrcv"); return 1; }
                printf("type=%ld len=%zd text=%.*s\n", m.mtype, len, (int)len, m.mtext);
            }
            return 0;
        }
        """;
}
