using System.Globalization;

namespace ShmKit.Tests.Memory;

/// <summary>
/// ManagedSegment across real processes: concurrent find-or-construct, a creator killed while initializing, a
/// constructor killed inside its initializer, and the opener's wait for publication.
/// </summary>
public class ManagedSegmentProcessTests
{
    private static readonly string[] s_names = ["b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "s0", "s1", "s2", "s3"];
    private static readonly ManagedSegmentOptions s_raceOptions = new() { ParticipantCapacity = 8, DirectoryCapacity = 32 };
    private const long RaceSize = 64 * 1024;

    [Fact]
    public void Four_Processes_Open_Or_Create_One_Segment_And_Its_Names_Concurrently_And_Exactly_One_Creates_Each()
    {
        const int processes = 4;
        const int rounds = 6;
        using var cleanup = new IpcCleanup();
        IpcKey[] keys = [.. Enumerable.Range(0, rounds).Select(_ => cleanup.NewKey())];
        List<string>[] outputs = RunRace(cleanup, keys, processes);

        for (int round = 0; round < rounds; round++)
        {
            var (_, offsets) = CheckRound(outputs, round, processes);
            using var segment = ManagedSegment.Open(keys[round]);
            var entries = segment.GetEntries();
            Assert.Equal(s_names.Length, entries.Count);
            Assert.All(entries, e => Assert.Equal((ShmDirectoryEntryState.Ready, offsets[e.Name!]), (e.State, e.Offset)));
            Assert.Equal(segment.OwnerId, Assert.Single(segment.GetParticipants()).OwnerId); // every child unregistered
        }
    }

    [Fact]
    public void A_Creator_Killed_While_Initializing_Is_Reported_By_Open_And_Taken_Over_By_OpenOrCreate()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        using var creator = ChildProcess.StartChild("managed-create-stall", key.ToString(), "16384");
        int staleTokens = int.Parse(creator.WaitForLine("CLAIMED").Split(' ')[1], CultureInfo.InvariantCulture);

        // Alive: an opener waits and then says who is still at work.
        var busy = Assert.Throws<ShmStructureNotReadyException>(() => ManagedSegment.Open(key, TimeSpan.FromMilliseconds(200)));
        Assert.Equal(creator.Id, busy.InitializerProcessId);
        Assert.Contains("alive", busy.Message, StringComparison.Ordinal);

        creator.Kill();
        var poisoned = Assert.Throws<ShmStructurePoisonedException>(() => ManagedSegment.Open(key));
        Assert.Equal((creator.Id, 0L), (poisoned.CreatorProcessId, poisoned.Offset!.Value));
        Assert.Contains("OpenOrCreate", poisoned.Message, StringComparison.Ordinal);
        Assert.Throws<ShmStructurePoisonedException>(() => ManagedSegment.Open(key, TimeSpan.Zero)); // stays poisoned

        using var segment = ManagedSegment.OpenOrCreate(key, 16 * 1024, ManagedSegmentTestSupport.Small);
        Assert.True(segment.WasCreated);
        Assert.Equal(Environment.ProcessId, segment.CreatorProcessId);
        Assert.NotEqual(staleTokens, segment.LivenessTokens.Id);
        Assert.Equal(segment.LivenessTokens.Id, SemaphoreSet.FindId(key));
        Assert.Throws<IpcObjectNotFoundException>(() => SemaphoreSet.OpenById(staleTokens));
        Assert.True(segment.OpenOrCreateBlock("after", 64).WasCreated);
        using var opener = ManagedSegment.Open(key);
        Assert.Equal(2, opener.GetParticipants().Count);
    }

    [Fact]
    public void Four_Processes_Racing_OpenOrCreate_Take_Over_A_Dead_Creators_Initialization_Exactly_Once()
    {
        const int processes = 4;
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        using (var creator = ChildProcess.StartChild("managed-create-stall", key.ToString(), RaceSize.ToString(CultureInfo.InvariantCulture)))
        {
            creator.WaitForLine("CLAIMED");
            creator.Kill();
        }

        List<string>[] outputs = RunRace(cleanup, [key], processes);
        CheckRound(outputs, 0, processes);
        using var segment = ManagedSegment.Open(key);
        Assert.Equal(s_names.Length, segment.GetEntries().Count);
        Assert.Equal(segment.LivenessTokens.Id, SemaphoreSet.FindId(key));
    }

    [Fact]
    public async Task An_Opener_That_Arrives_During_Initialization_Gets_The_Published_Segment()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        using var creator = ChildProcess.StartChild("managed-create-stall", key.ToString(), "16384");
        creator.WaitForLine("CLAIMED");
        Task<ManagedSegment> open = Task.Run(() => ManagedSegment.Open(key, TimeSpan.FromSeconds(30)));
        creator.StandardInput.WriteLine("GO");
        creator.StandardInput.Flush();
        using ManagedSegment segment = await open.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(segment.WasCreated);
        Assert.Equal(creator.Id, segment.CreatorProcessId);
        creator.WaitForLine("CREATED");
    }

    [Fact]
    public void A_Constructor_Killed_Inside_Its_Initializer_Is_Waited_For_While_Alive_And_Taken_Over_When_Dead()
    {
        using var cleanup = new IpcCleanup();
        using var stalled = ManagedSegmentTestSupport.CreateWithStalledConstructor(cleanup, "s-stuck");
        var (segment, constructor) = (stalled.Segment, stalled.Constructor);

        Assert.Equal(ShmDirectoryEntryState.Constructing, Assert.Single(segment.GetEntries()).State);
        var busy = Assert.Throws<ShmStructureNotReadyException>(() => ManagedSegmentTestSupport.FindOrCreateStructure(segment, "s-stuck", TimeSpan.FromMilliseconds(200)));
        Assert.Equal(constructor.Id, busy.InitializerProcessId);
        Assert.Throws<ShmStructureNotReadyException>(() => segment.Find("s-stuck", ShmStructureKind.Event, 1, TimeSpan.FromMilliseconds(200)));

        constructor.Kill();
        Assert.Null(segment.Find("s-stuck", ShmStructureKind.Event, 1)); // nothing was ever published there
        (long offset, bool created) = ManagedSegmentTestSupport.FindOrCreateStructure(segment, "s-stuck");
        Assert.True(created);
        ManagedSegmentEntry entry = Assert.Single(segment.GetEntries());
        Assert.Equal(("s-stuck", ShmDirectoryEntryState.Ready, offset), (entry.Name, entry.State, entry.Offset));
        Assert.Equal(256, segment.HeapUsed); // the dead constructor's 128 bytes stay unused
    }

    /// <summary>Starts the racers, waits for them all, and returns each one's stdout lines.</summary>
    private static List<string>[] RunRace(IpcCleanup cleanup, IpcKey[] keys, int processes)
    {
        var barrier = SemaphoreSet.CreatePrivate([.. Enumerable.Repeat((short)processes, keys.Length)]);
        cleanup.AddId('s', barrier.Id);
        var children = new List<ChildProcess>();
        try
        {
            for (int i = 0; i < processes; i++)
            {
                children.Add(ChildProcess.StartChild("managed-race", string.Join(',', keys.Select(k => k.ToString())), RaceSize.ToString(CultureInfo.InvariantCulture),
                    s_raceOptions.ParticipantCapacity.ToString(CultureInfo.InvariantCulture), s_raceOptions.DirectoryCapacity.ToString(CultureInfo.InvariantCulture),
                    barrier.Id.ToString(CultureInfo.InvariantCulture), i.ToString(CultureInfo.InvariantCulture), string.Join(',', s_names)));
            }

            foreach (var child in children)
            {
                int code = child.WaitForExit(TimeSpan.FromSeconds(120));
                Assert.True(code == 0, $"racer {child.Id} exited {code}:\n{child.StandardOutput}\n{child.StandardError}");
            }

            return [.. children.Select(c => c.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList())];
        }
        finally
        {
            children.ForEach(c => c.Dispose());
        }
    }

    /// <summary>Exactly one racer created the segment and each name; all saw the same, distinct, aligned offsets.</summary>
    private static (int Creator, Dictionary<string, long> Offsets) CheckRound(List<string>[] outputs, int round, int processes)
    {
        string prefix = round.ToString(CultureInfo.InvariantCulture) + " ";
        var segs = outputs.Select(o => o.Single(l => l.StartsWith("SEG " + prefix, StringComparison.Ordinal))).ToList();
        Assert.Equal(1, segs.Count(l => l.EndsWith("created", StringComparison.Ordinal)));
        var offsets = new Dictionary<string, long>();
        foreach (string name in s_names)
        {
            var lines = outputs.Select(o => o.Single(l => l.StartsWith("ENT " + prefix + name + " ", StringComparison.Ordinal)).Split(' ')).ToList();
            Assert.Equal(processes, lines.Count);
            Assert.Equal(1, lines.Count(l => l[4] == "created"));
            long offset = long.Parse(lines[0][3], CultureInfo.InvariantCulture);
            Assert.All(lines, l => Assert.Equal(offset, long.Parse(l[3], CultureInfo.InvariantCulture)));
            Assert.Equal(0, offset % 128);
            offsets[name] = offset;
        }

        Assert.Equal(s_names.Length, offsets.Values.Distinct().Count());
        return (segs.FindIndex(l => l.EndsWith("created", StringComparison.Ordinal)), offsets);
    }
}
