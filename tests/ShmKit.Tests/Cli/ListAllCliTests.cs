using System.Globalization;
using System.Text.Json;

namespace ShmKit.Tests.Cli;

/// <summary><c>shmkit list --all</c>: segments, semaphore sets and message queues, like <c>ipcs -a</c>; plain <c>list</c> stays segments only.</summary>
public class ListAllCliTests
{
    [Fact]
    public void List_All_Shows_Three_Tables_And_Plain_List_Only_Segments()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        var key = cleanup.NewKey();
        var set = SemaphoreSet.CreateNew(key, [1, 2, 3]);
        var queue = MessageQueue.CreatePrivate();
        cleanup.AddId('q', queue.Id);
        queue.Send(1, "abc"u8);

        foreach (string flag in new[] { "--all", "-a" })
        {
            string[] lines = Shmkit.Ok("list", flag).Split('\n');
            int shm = Array.IndexOf(lines, "------ Shared Memory Segments --------");
            int sem = Array.IndexOf(lines, "------ Semaphore Arrays --------");
            int msg = Array.IndexOf(lines, "------ Message Queues --------");
            Assert.True(shm >= 0 && shm < sem && sem < msg, string.Join('\n', lines));
            Assert.Contains(lines[shm..sem], l => Columns(l) is [_, var id, _, "0600", "4096", "0"] && id == Id(segment.Id));
            Assert.Contains(lines[sem..msg], l => Columns(l) is [var k, var id, _, "0600", "3"] && k == key.ToString() && id == Id(set.Id));
            Assert.Contains(lines[msg..], l => Columns(l) is [_, var id, _, "0600", "3", "1"] && id == Id(queue.Id));
        }

        string plain = Shmkit.Ok("list");
        Assert.DoesNotContain("------", plain, StringComparison.Ordinal);
        Assert.DoesNotContain(key.ToString(), plain, StringComparison.Ordinal);
        Assert.Contains(plain.Split('\n'), l => Columns(l) is [_, var id, ..] && id == Id(segment.Id));
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(Shmkit.Ok("list", "--json")).RootElement.ValueKind);
    }

    [Fact]
    public void List_All_Json_Is_One_Object_With_Three_Arrays()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(8192));
        var set = SemaphoreSet.CreatePrivate([0, 0]);
        cleanup.AddId('s', set.Id);
        var queue = MessageQueue.CreatePrivate();
        cleanup.AddId('q', queue.Id);

        var root = JsonDocument.Parse(Shmkit.Ok("list", "--all", "--json")).RootElement;
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        var segmentJson = root.GetProperty("sharedMemory").EnumerateArray().Single(e => e.GetProperty("id").GetInt32() == segment.Id);
        Assert.Equal(8192, segmentJson.GetProperty("size").GetInt64());
        var setJson = root.GetProperty("semaphoreSets").EnumerateArray().Single(e => e.GetProperty("id").GetInt32() == set.Id);
        Assert.Equal(2, setJson.GetProperty("count").GetInt32());
        var queueJson = root.GetProperty("messageQueues").EnumerateArray().Single(e => e.GetProperty("id").GetInt32() == queue.Id);
        Assert.Equal(0, queueJson.GetProperty("messages").GetInt64());
        Assert.All(new[] { segmentJson, setJson, queueJson }, e => Assert.Equal("0x00000000", e.GetProperty("key").GetString()));
    }

    [Fact]
    public void Library_Messages_Point_At_Commands_That_Exist()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var set = SemaphoreSet.CreateNew(key, [1]);
        var queue = MessageQueue.CreateNew(cleanup.NewKey());

        // "already exists" names the (util-linux) remove command of the right kind; the CLI adds its own hints.
        var semExists = Assert.Throws<IpcObjectExistsException>(() => SemaphoreSet.CreateNew(key, [1]));
        Assert.Contains($"`ipcrm -S {key}`", semExists.Message, StringComparison.Ordinal);
        var msgExists = Assert.Throws<IpcObjectExistsException>(() => MessageQueue.CreateNew(queue.Key));
        Assert.Contains($"`ipcrm -Q {queue.Key}`", msgExists.Message, StringComparison.Ordinal);

        // "not found" points at the listing of the right kind.
        var notFound = Assert.Throws<IpcObjectNotFoundException>(() => MessageQueue.Open(cleanup.NewKey()));
        Assert.Contains("`ipcs -q`", notFound.Message, StringComparison.Ordinal);
        Shmkit.Ok("list", "--all");
        Shmkit.Ok("sem", "rm", "--id", Id(set.Id));
        Shmkit.Ok("msg", "rm", "--id", Id(queue.Id));
    }

    private static string Id(int id) => id.ToString(CultureInfo.InvariantCulture);

    private static string[] Columns(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
