using System.Globalization;
using System.Text.Json;

namespace ShmKit.Tests.Cli;

/// <summary>End-to-end tests of <c>shmkit sem</c>: the real CLI process against real semaphore sets.</summary>
public class SemCliTests
{
    [Fact]
    public void Create_With_Key_Then_List_Info_Set_And_Rm()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();

        string created = Shmkit.Ok("sem", "create", "--count", "3", "--values", "1,0,4", "--key", key.ToString(), "--mode", "640");
        int id = Shmkit.ParseId(created);
        Assert.Contains(key.ToString(), created, StringComparison.Ordinal);
        var set = SemaphoreSet.Open(key);
        Assert.Equal(id, set.Id);
        Assert.Equal([1, 0, 4], set.GetValues());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, set.Stat().Mode);

        // list: an ipcs -s style row with key, semid, owner, perms, nsems.
        string row = Shmkit.Ok("sem", "list").Split('\n').Single(l => l.StartsWith(key.ToString(), StringComparison.Ordinal));
        Assert.Equal([key.ToString(), id.ToString(CultureInfo.InvariantCulture), Environment.UserName, "0640", "3"], row.Split(' ', StringSplitOptions.RemoveEmptyEntries));

        var fromList = JsonDocument.Parse(Shmkit.Ok("sem", "list", "--json")).RootElement.EnumerateArray().Single(e => e.GetProperty("id").GetInt32() == id);
        Assert.Equal(key.ToString(), fromList.GetProperty("key").GetString());
        Assert.Equal(3, fromList.GetProperty("count").GetInt32());
        Assert.Equal("0640", fromList.GetProperty("mode").GetString());

        // info --json: every semid_ds field and, per semaphore, value, last pid and waiters.
        set.Release(2, 1, undo: false);
        var info = JsonDocument.Parse(Shmkit.Ok("sem", "info", key.ToString(), "--json")).RootElement;
        Assert.Equal(id, info.GetProperty("id").GetInt32());
        Assert.Equal(Environment.UserName, info.GetProperty("owner").GetString());
        Assert.Equal(JsonValueKind.String, info.GetProperty("lastOperationTime").ValueKind);
        Assert.Equal(JsonValueKind.String, info.GetProperty("lastChangeTime").ValueKind);
        var semaphores = info.GetProperty("semaphores").EnumerateArray().ToArray();
        Assert.Equal([0, 1, 2], semaphores.Select(s => s.GetProperty("index").GetInt32()));
        Assert.Equal([1, 0, 5], semaphores.Select(s => s.GetProperty("value").GetInt32()));
        Assert.Equal(Environment.ProcessId, semaphores[2].GetProperty("lastPid").GetInt32());
        Assert.All(semaphores, s => Assert.Equal(0, s.GetProperty("waitingForIncrease").GetInt32()));
        Assert.All(semaphores, s => Assert.Equal(0, s.GetProperty("waitingForZero").GetInt32()));

        string table = Shmkit.Ok("sem", "info", "--id", id.ToString(CultureInfo.InvariantCulture));
        Assert.True(table.All(c => char.IsAscii(c) && c != '\u001b'), "redirected tables are plain ASCII");
        Assert.Contains("0640", table, StringComparison.Ordinal);
        Assert.Contains("waiting for zero", table, StringComparison.Ordinal);

        // set: one value (SETVAL) or all (SETALL).
        Shmkit.Ok("sem", "set", key.ToString(), "--index", "1", "--value", "7");
        Assert.Equal([1, 7, 5], set.GetValues());
        Shmkit.Ok("sem", "set", "--id", id.ToString(CultureInfo.InvariantCulture), "--values", "0,2,3");
        Assert.Equal([0, 2, 3], set.GetValues());

        Assert.Contains($"removed semaphore set id {id} (key {key})", Shmkit.Ok("sem", "rm", key.ToString()), StringComparison.Ordinal);
        Assert.Throws<IpcObjectNotFoundException>(() => SemaphoreSet.OpenById(id));
    }

    [Fact]
    public void Create_Is_Private_By_Default_Opens_Existing_And_Honours_Exclusive()
    {
        using var cleanup = new IpcCleanup();
        var result = JsonDocument.Parse(Shmkit.Ok("sem", "create", "--count", "2", "--json")).RootElement;
        int id = result.GetProperty("id").GetInt32();
        cleanup.AddId('s', id);
        Assert.Equal("0x00000000", result.GetProperty("key").GetString());
        Assert.True(result.GetProperty("created").GetBoolean());
        var set = SemaphoreSet.OpenById(id);
        Assert.Equal([0, 0], set.GetValues());
        Assert.Equal(SemaphoreSet.DefaultMode, set.Stat().Mode);

        var key = cleanup.NewKey();
        var existing = SemaphoreSet.CreateNew(key, [3, 3]);
        var opened = JsonDocument.Parse(Shmkit.Ok("sem", "create", "--count", "1", "--key", key.ToString(), "--json")).RootElement;
        Assert.Equal(existing.Id, opened.GetProperty("id").GetInt32());
        Assert.False(opened.GetProperty("created").GetBoolean());
        Assert.Equal([3, 3], existing.GetValues()); // opening leaves the values alone

        Assert.Contains("already exists", Shmkit.Run("sem", "create", "--count", "2", "--key", key.ToString(), "--exclusive").AssertError(ExitCode.Exists), StringComparison.Ordinal);
        Assert.Contains("fewer than the 5", Shmkit.Run("sem", "create", "--count", "5", "--key", key.ToString()).AssertError(ExitCode.TooLarge), StringComparison.Ordinal);
    }

    [Fact]
    public void Op_Changes_The_Value_And_Keeps_It_After_Exit_Unless_Undo()
    {
        using var cleanup = new IpcCleanup();
        var set = SemaphoreSet.CreatePrivate([1, 0]);
        cleanup.AddId('s', set.Id);
        string id = set.Id.ToString(CultureInfo.InvariantCulture);

        // Default: no SEM_UNDO, so the change outlives the shmkit process.
        Assert.Contains("value is now 0", Shmkit.Ok("sem", "op", "--id", id, "--delta", "-1"), StringComparison.Ordinal);
        Assert.Equal(0, set.GetValue(0));
        Shmkit.Ok("sem", "op", "--id", id, "--index", "1", "--delta", "3", "--no-undo");
        Assert.Equal(3, set.GetValue(1));

        // --undo: the kernel reverses the operation when shmkit exits.
        Shmkit.Ok("sem", "op", "--id", id, "--index", "1", "--delta", "-2", "--undo");
        Assert.Equal(3, set.GetValue(1));

        // Wait for zero on a zero semaphore returns at once.
        Shmkit.Ok("sem", "op", "--id", id, "--delta", "0", "--timeout", "5s");
    }

    [Fact]
    public void Op_Times_Out_On_A_Zero_Semaphore_With_The_Timeout_Code()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var set = SemaphoreSet.CreateNew(key, [0, 1]);

        string error = Shmkit.Run("sem", "op", key.ToString(), "--index", "0", "--delta", "-1", "--timeout", "300ms").AssertError(ExitCode.Timeout);
        Assert.Contains("timed out after 300 ms", error, StringComparison.Ordinal);
        Assert.Contains(key.ToString(), error, StringComparison.Ordinal);

        Assert.Contains("--nowait", Shmkit.Run("sem", "op", key.ToString(), "--delta", "-1", "--nowait").AssertError(ExitCode.Timeout), StringComparison.Ordinal);
        Assert.Contains("timed out", Shmkit.Run("sem", "op", key.ToString(), "--index", "1", "--delta", "0", "--timeout", "0.2s").AssertError(ExitCode.Timeout), StringComparison.Ordinal);
        Assert.Equal([0, 1], set.GetValues());
    }

    [Fact]
    public void A_Waiting_Op_Is_Seen_By_Info_And_Released_By_Another_Op()
    {
        using var cleanup = new IpcCleanup();
        var set = SemaphoreSet.CreatePrivate([0]);
        cleanup.AddId('s', set.Id);
        string id = set.Id.ToString(CultureInfo.InvariantCulture);

        using var waiter = ChildProcess.StartCli("sem", "op", "--id", id, "--delta", "-1", "--timeout", "30s");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (set.GetWaitingForIncreaseCount(0) == 0 && !waiter.HasExited && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }

        // The waiter can be cancelled (Ctrl-C), so it waits in 50 ms slices and is briefly off the kernel's queue
        // between two of them: ask again until `info` catches it waiting.
        int waiting = 0;
        while (waiting == 0 && !waiter.HasExited && DateTime.UtcNow < deadline)
        {
            var info = JsonDocument.Parse(Shmkit.Ok("sem", "info", "--id", id, "--json")).RootElement;
            waiting = info.GetProperty("semaphores")[0].GetProperty("waitingForIncrease").GetInt32();
        }

        Assert.Equal(1, waiting);

        Shmkit.Ok("sem", "op", "--id", id, "--delta", "1");
        Assert.Equal(0, waiter.WaitForExit(TimeSpan.FromSeconds(20)));
        Assert.Equal(0, set.GetValue(0));
    }

    [Fact]
    public void A_Waiting_Op_Without_Timeout_Stops_On_Sigterm_And_Changes_Nothing()
    {
        using var cleanup = new IpcCleanup();
        var set = SemaphoreSet.CreatePrivate([0]);
        cleanup.AddId('s', set.Id);

        using var waiter = ChildProcess.StartCli("sem", "op", "--id", set.Id.ToString(CultureInfo.InvariantCulture), "--delta", "-1");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        int waiting;
        while ((waiting = set.GetWaitingForIncreaseCount(0)) == 0 && !waiter.HasExited && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }

        // Read once: a cancellable waiter is briefly off the queue between its 50 ms slices.
        Assert.Equal(1, waiting);
        using (var kill = ChildProcess.Start("kill", ["-TERM", waiter.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            Assert.Equal(0, kill.WaitForExit(TimeSpan.FromSeconds(10)));
        }

        // Exit 128 + SIGTERM as usual, nothing taken, nobody left waiting.
        Assert.Equal(143, waiter.WaitForExit(TimeSpan.FromSeconds(20)));
        Assert.Equal(0, set.GetValue(0));
        Assert.Equal(0, set.GetWaitingForIncreaseCount(0));
    }

    [Fact]
    public void Works_On_A_Set_Made_By_Ipcmk()
    {
        using var cleanup = new IpcCleanup();
        using var ipcmk = ChildProcess.Start("ipcmk", ["-S", "2"]);
        Assert.Equal(0, ipcmk.WaitForExit(TimeSpan.FromSeconds(10)));
        int id = Shmkit.ParseId(ipcmk.StandardOutput);
        cleanup.AddId('s', id);
        string idText = id.ToString(CultureInfo.InvariantCulture);

        // ipcmk never performs a semop (sem_otime stays 0): the CLI uses such a set without waiting for initialization.
        var info = JsonDocument.Parse(Shmkit.Ok("sem", "info", "--id", idText, "--json")).RootElement;
        Assert.Equal(2, info.GetProperty("count").GetInt32());
        Assert.Equal("0644", info.GetProperty("mode").GetString()); // ipcmk's default mode
        Assert.Equal(JsonValueKind.Null, info.GetProperty("lastOperationTime").ValueKind);
        string key = info.GetProperty("key").GetString()!;
        Assert.Contains(Shmkit.Ok("sem", "list").Split('\n'), l => l.StartsWith(key + " ", StringComparison.Ordinal) && l.EndsWith(" 2", StringComparison.Ordinal));

        Shmkit.Ok("sem", "op", key, "--index", "1", "--delta", "2");
        Shmkit.Ok("sem", "op", key, "--index", "1", "--delta", "-1", "--timeout", "5s");
        Shmkit.Ok("sem", "set", key, "--index", "0", "--value", "9");
        Assert.Equal([9, 1], SemaphoreSet.OpenById(id).GetValues());

        Shmkit.Ok("sem", "rm", "--id", idText);
        Assert.Throws<IpcObjectNotFoundException>(() => SemaphoreSet.OpenById(id));
    }

    [Fact]
    public void Unknown_Sets_And_Bad_Operations_Are_One_Line_Errors()
    {
        using var cleanup = new IpcCleanup();
        var missing = cleanup.NewKey();
        Assert.Contains(missing.ToString(), Shmkit.Run("sem", "info", missing.ToString()).AssertError(ExitCode.NotFound), StringComparison.Ordinal);
        Shmkit.Run("sem", "op", "--id", "2147483000", "--delta", "1").AssertError(ExitCode.NotFound);
        Assert.Contains("--id 2147483000", Shmkit.Run("sem", "rm", "2147483000").AssertError(ExitCode.NotFound), StringComparison.Ordinal);

        var set = SemaphoreSet.CreatePrivate([0, 0]);
        cleanup.AddId('s', set.Id);
        string id = set.Id.ToString(CultureInfo.InvariantCulture);
        Assert.Contains("valid indexes 0..1", Shmkit.Run("sem", "op", "--id", id, "--index", "2", "--delta", "1").AssertError(2), StringComparison.Ordinal);
        Shmkit.Run("sem", "set", "--id", id, "--value", "40000").AssertError(2);
        Shmkit.Run("sem", "set", "--id", id, "--values", "1,2,3").AssertError(2);
        Assert.Equal([0, 0], set.GetValues());
    }

    [Fact]
    public void Rm_Tries_Every_Argument_And_Fails_If_Any_Failed()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var missing = cleanup.NewKey();
        var keyed = SemaphoreSet.CreateNew(key, [1]);
        var first = SemaphoreSet.CreatePrivate([1]);
        cleanup.AddId('s', first.Id);

        var result = Shmkit.Run("sem", "rm", key.ToString(), missing.ToString(), "--id", first.Id.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(ExitCode.NotFound, result.ExitCode);
        Assert.Contains($"removed semaphore set id {keyed.Id} (key {key})", result.Stdout, StringComparison.Ordinal);
        Assert.Contains($"removed semaphore set id {first.Id}", result.Stdout, StringComparison.Ordinal);
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(missing.ToString(), result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(SemaphoreSet.GetAll(), s => s.Id == keyed.Id || s.Id == first.Id);
    }

    [Theory]
    [InlineData("sem", "create")]
    [InlineData("sem", "create", "--count", "0")]
    [InlineData("sem", "create", "--count", "2", "--values", "1,2,3")]
    [InlineData("sem", "create", "--values", "1,x")]
    [InlineData("sem", "create", "--values", "40000")]
    [InlineData("sem", "create", "--count", "x")]
    [InlineData("sem", "create", "--count", "2000000000")]
    [InlineData("sem", "create", "--count", "x", "--values", "1,x")]
    [InlineData("sem", "create", "--count", "1", "--key", "0x1", "--private")]
    [InlineData("sem", "op", "--id", "0")]
    [InlineData("sem", "op", "--id", "0", "--delta", "x")]
    [InlineData("sem", "op", "--id", "0", "--delta", "-1", "--timeout", "5 parsecs")]
    [InlineData("sem", "op", "--id", "0", "--delta", "-1", "--timeout", "-1s")]
    [InlineData("sem", "op", "--id", "0", "--delta", "-1", "--timeout", "1s", "--nowait")]
    [InlineData("sem", "op", "--id", "0", "--delta", "-1", "--undo", "--no-undo")]
    [InlineData("sem", "set", "--id", "0")]
    [InlineData("sem", "set", "--id", "0", "--value", "1", "--values", "1")]
    [InlineData("sem", "info")]
    [InlineData("sem", "info", "0x0")]
    [InlineData("sem", "bogus")]
    public void Bad_Arguments_Are_Usage_Errors(params string[] args) => Shmkit.Run(args).AssertError(2);
}
