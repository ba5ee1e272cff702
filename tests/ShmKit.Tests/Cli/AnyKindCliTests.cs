using System.Globalization;
using System.Text.Json;
using ShmKit.Tests.Segments;

namespace ShmKit.Tests.Cli;

/// <summary>
/// The commands that work on every kind of object, as ipcrm does: <c>rm</c>, <c>chmod</c>, <c>chown</c>, and
/// <c>limits</c> for all three kinds; plus the JSON results of <c>write</c>, <c>rm</c> and <c>sem op</c>.
/// </summary>
public class AnyKindCliTests
{
    [Fact]
    public void Rm_By_Key_Removes_Every_Kind_With_That_Key_And_Says_Which()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var segment = SharedMemorySegment.CreateNew(key, 4096);
        var set = SemaphoreSet.CreateNew(key, [0]);
        var queue = MessageQueue.CreateNew(key);

        string output = Shmkit.Ok("rm", key.ToString());
        Assert.Contains($"removed shared memory segment id {segment.Id} (key {key})", output, StringComparison.Ordinal);
        Assert.Contains($"removed semaphore set id {set.Id} (key {key})", output, StringComparison.Ordinal);
        Assert.Contains($"removed message queue id {queue.Id} (key {key})", output, StringComparison.Ordinal);
        Assert.Throws<IpcObjectNotFoundException>(() => SharedMemorySegment.Open(key));
        Assert.Throws<IpcObjectNotFoundException>(() => SemaphoreSet.OpenById(set.Id));
        Assert.Throws<IpcObjectNotFoundException>(() => MessageQueue.Open(key));

        // A key with only a queue: rm removes the queue, and says so.
        var alone = MessageQueue.CreateNew(key);
        var json = JsonDocument.Parse(Shmkit.Ok("rm", key.ToString(), "--json")).RootElement;
        var removed = Assert.Single(json.EnumerateArray());
        Assert.Equal("messageQueue", removed.GetProperty("kind").GetString());
        Assert.Equal(alone.Id, removed.GetProperty("id").GetInt32());
        Assert.Equal(key.ToString(), removed.GetProperty("key").GetString());
    }

    [Fact]
    public void Rm_By_Id_Needs_Kind_When_The_Id_Is_Ambiguous()
    {
        using var cleanup = new IpcCleanup();
        var set = SemaphoreSet.CreatePrivate([0]);
        cleanup.AddId('s', set.Id);
        string id = set.Id.ToString(CultureInfo.InvariantCulture);

        // The id names only a semaphore set (ids of other kinds are counted separately, so check before relying on it).
        bool ambiguous = SharedMemorySegment.GetAll().Any(s => s.Id == set.Id) || MessageQueue.GetAll().Any(q => q.Id == set.Id);
        if (ambiguous)
        {
            Assert.Contains("--kind", Shmkit.Run("rm", "--id", id).AssertError(ExitCode.Usage), StringComparison.Ordinal);
            Assert.Contains("removed semaphore set", Shmkit.Ok("rm", "--id", id, "--kind", "sem"), StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains($"removed semaphore set id {set.Id}", Shmkit.Ok("rm", "--id", id), StringComparison.Ordinal);
        }

        Assert.Throws<IpcObjectNotFoundException>(() => SemaphoreSet.OpenById(set.Id));

        // --kind limits a key too, and sem rm / msg rm stay.
        var key = cleanup.NewKey();
        var segment = SharedMemorySegment.CreateNew(key, 4096);
        var queue = MessageQueue.CreateNew(key);
        Assert.Contains("removed message queue", Shmkit.Ok("rm", key.ToString(), "--kind", "msg"), StringComparison.Ordinal);
        Assert.Equal(segment.Id, SharedMemorySegment.Open(key).Id);
        Assert.Throws<IpcObjectNotFoundException>(() => MessageQueue.OpenById(queue.Id));
        Shmkit.Run("rm", key.ToString(), "--kind", "bogus").AssertError(ExitCode.Usage);
    }

    [Fact]
    public void Chmod_Changes_The_Mode_Of_Every_Kind()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var segment = SharedMemorySegment.CreateNew(key, 4096);
        var set = SemaphoreSet.CreateNew(key, [0]);
        var queue = MessageQueue.CreateNew(key);
        const UnixFileMode expected = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;

        string output = Shmkit.Ok("chmod", "640", key.ToString());
        Assert.Contains($"shared memory segment id {segment.Id} (key {key}): mode 0600 -> 0640", output, StringComparison.Ordinal);
        Assert.Contains("semaphore set", output, StringComparison.Ordinal);
        Assert.Contains("message queue", output, StringComparison.Ordinal);
        Assert.Equal(expected, segment.Stat().Mode);
        Assert.Equal(expected, set.Stat().Mode);
        Assert.Equal(expected, queue.Stat().Mode);

        Shmkit.Ok("chmod", "0600", "--id", set.Id.ToString(CultureInfo.InvariantCulture), "--kind", "sem");
        Assert.Equal(SemaphoreSet.DefaultMode, set.Stat().Mode);
        Shmkit.Run("chmod", "0999", key.ToString()).AssertError(ExitCode.Usage);
        Shmkit.Run("chmod", key.ToString()).AssertError(ExitCode.Usage);
    }

    [EnvironmentFact(Needs.Root)]
    public void Chown_Changes_Owner_And_Group_By_Name_Or_Number()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var segment = SharedMemorySegment.CreateNew(key, 4096);
        var queue = MessageQueue.CreateNew(key);

        string output = Shmkit.Ok("chown", "65534:65534", key.ToString());
        Assert.Contains("owner", output, StringComparison.Ordinal);
        Assert.Equal(65534u, segment.Stat().OwnerUserId);
        Assert.Equal(65534u, segment.Stat().OwnerGroupId);
        Assert.Equal(65534u, queue.Stat().OwnerUserId);

        // A user name, group kept; then :group only.
        Shmkit.Ok("chown", "root", "--id", segment.Id.ToString(CultureInfo.InvariantCulture), "--kind", "shm");
        Assert.Equal(0u, segment.Stat().OwnerUserId);
        Assert.Equal(65534u, segment.Stat().OwnerGroupId);
        Shmkit.Ok("chown", ":root", "--id", segment.Id.ToString(CultureInfo.InvariantCulture), "--kind", "shm");
        Assert.Equal(0u, segment.Stat().OwnerGroupId);

        Assert.Contains("no-such-user-shmkit", Shmkit.Run("chown", "no-such-user-shmkit", key.ToString()).AssertError(ExitCode.Usage), StringComparison.Ordinal);
    }

    [Fact]
    public void Limits_Shows_All_Three_Kinds_And_Big_Numbers_Exactly()
    {
        var shm = SharedMemorySegment.GetLimits();
        var sem = SemaphoreSet.GetLimits();
        var msg = MessageQueue.GetLimits();
        string json = Shmkit.Ok("limits", "--json");
        var limits = JsonDocument.Parse(json).RootElement;

        // shmmax and shmall are often near 2^64: written as exact JSON integers (documented), not rounded doubles.
        Assert.Equal(shm.MaxSegmentSize, limits.GetProperty("shmmax").GetUInt64());
        Assert.Contains("\"shmmax\": " + shm.MaxSegmentSize.ToString(CultureInfo.InvariantCulture), json, StringComparison.Ordinal);
        Assert.Equal(shm.MaxTotalPages, limits.GetProperty("shmall").GetUInt64());
        var semaphores = limits.GetProperty("semaphores");
        Assert.Equal(sem.MaxSemaphoresPerSet, semaphores.GetProperty("semmsl").GetInt32());
        Assert.Equal(sem.MaxSets, semaphores.GetProperty("semmni").GetInt32());
        Assert.Equal(sem.MaxValue, semaphores.GetProperty("semvmx").GetInt32());
        var queues = limits.GetProperty("messageQueues");
        Assert.Equal(msg.MaxMessageSize, queues.GetProperty("msgmax").GetInt32());
        Assert.Equal(msg.MaxQueueBytes, queues.GetProperty("msgmnb").GetInt32());
        Assert.Equal(msg.MaxQueues, queues.GetProperty("msgmni").GetInt32());

        string table = Shmkit.Ok("limits");
        foreach (string name in new[] { "shmmax", "semmsl", "semvmx", "msgmax", "msgmnb" })
        {
            Assert.Contains(name, table, StringComparison.Ordinal);
        }

        Assert.Contains("2^53", Shmkit.Ok("limits", "--help"), StringComparison.Ordinal);
    }

    [Fact]
    public void Write_And_Sem_Op_Have_Json_Results()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var segment = SharedMemorySegment.CreateNew(key, 4096);
        var set = SemaphoreSet.CreateNew(key, [2]);

        var write = JsonDocument.Parse(Shmkit.Ok("write", key.ToString(), "--offset", "0x10", "--text", "hello", "--json")).RootElement;
        Assert.Equal(segment.Id, write.GetProperty("id").GetInt32());
        Assert.Equal(key.ToString(), write.GetProperty("key").GetString());
        Assert.Equal(16, write.GetProperty("offset").GetInt64());
        Assert.Equal(5, write.GetProperty("bytes").GetInt64());
        Assert.Equal(4096, write.GetProperty("size").GetInt64());

        var op = JsonDocument.Parse(Shmkit.Ok("sem", "op", key.ToString(), "--delta", "-1", "--json")).RootElement;
        Assert.Equal(set.Id, op.GetProperty("id").GetInt32());
        Assert.Equal(0, op.GetProperty("index").GetInt32());
        Assert.Equal(-1, op.GetProperty("delta").GetInt32());
        Assert.Equal(1, op.GetProperty("value").GetInt32());
        Assert.False(op.GetProperty("undo").GetBoolean());
    }

    [Fact]
    public void Create_On_An_Existing_Object_Says_The_Mode_Is_Kept()
    {
        using var cleanup = new IpcCleanup();
        string key = cleanup.NewKey().ToString();
        Shmkit.Ok("create", "--size", "4K", "--key", key);
        string output = Shmkit.Ok("create", "--size", "4K", "--key", key, "--mode", "0644");
        Assert.Contains("mode stays 0600", output, StringComparison.Ordinal);
        Assert.Contains($"shmkit chmod 0644 {key}", output, StringComparison.Ordinal);
        var json = JsonDocument.Parse(Shmkit.Ok("create", "--size", "4K", "--key", key, "--mode", "0644", "--json")).RootElement;
        Assert.Equal("0600", json.GetProperty("mode").GetString());
        Assert.False(json.GetProperty("created").GetBoolean());

        Shmkit.Ok("msg", "create", "--key", key);
        Assert.Contains("mode stays 0600", Shmkit.Ok("msg", "create", "--key", key, "--mode", "0640"), StringComparison.Ordinal);
        Shmkit.Ok("sem", "create", "--count", "1", "--key", key);
        Assert.Contains("mode stays 0600", Shmkit.Ok("sem", "create", "--count", "1", "--key", key, "--mode", "0640"), StringComparison.Ordinal);

        // Without --mode, or with the same mode, nothing to say.
        Assert.DoesNotContain("mode stays", Shmkit.Ok("create", "--size", "4K", "--key", key), StringComparison.Ordinal);
    }

    [Fact]
    public void Numbers_Accept_Hex_Like_Sizes_And_Keys_And_Too_Large_Sizes_Say_So()
    {
        using var cleanup = new IpcCleanup();
        var queue = MessageQueue.CreatePrivate();
        cleanup.AddId('q', queue.Id);
        string q = queue.Id.ToString(CultureInfo.InvariantCulture);
        Shmkit.Ok("msg", "send", "--id", q, "--type", "0x5", "--text", "five");
        Assert.Equal("5\tfive\n", Shmkit.Ok("msg", "recv", "--id", q, "--type", "0x5", "--show-type", "--text"));

        string error = Shmkit.Run("create", "--size", "0xffffffffffffffff").AssertError(ExitCode.Usage);
        Assert.Contains("too large", error, StringComparison.Ordinal);
        Assert.DoesNotContain("hexadecimal digits", error, StringComparison.Ordinal);
        Assert.Contains("not a valid byte count", Shmkit.Run("create", "--size", "0xfg").AssertError(ExitCode.Usage), StringComparison.Ordinal);
    }
}
