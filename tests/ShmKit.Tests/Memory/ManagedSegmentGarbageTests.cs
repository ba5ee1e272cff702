using CsCheck;

namespace ShmKit.Tests.Memory;

/// <summary>
/// Generated garbage (CsCheck) over every part of a managed segment's metadata: the header, the control block, the
/// participant table and the directory. Every open must either succeed (harmless garbage, such as bytes in free slots
/// or reserved fields) or fail with one of the specific exceptions, within a per-case timeout, and never read outside
/// the segment (every access is bounds-checked: an ArgumentOutOfRangeException, NullReferenceException or any other
/// exception fails the case).
/// </summary>
public class ManagedSegmentGarbageTests
{
    private const int Participants = 8;
    private const int Entries = 8;
    private static readonly TimeSpan s_perCase = TimeSpan.FromSeconds(10);
    private static readonly string[] s_blocks = ["alpha", "beta", "gamma"];

    [Fact]
    public void Random_Garbage_In_Header_Control_Block_Participants_And_Directory_Is_Rejected_Specifically_Or_Harmless()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        var options = new ManagedSegmentOptions { ParticipantCapacity = Participants, DirectoryCapacity = Entries };
        long size = ManagedSegment.GetMinimumSize(options) + 4096;
        using (var creator = ManagedSegment.Create(key, size, options))
        {
            foreach (string name in s_blocks)
            {
                creator.OpenOrCreateBlock(name, 200);
            }

            ManagedSegmentTestSupport.FindOrCreateStructure(creator, "s-struct");
        }

        using var raw = SharedMemorySegment.Open(key).Attach();
        byte[] pristine = raw.Copy(0, checked((int)raw.Length));
        long directory = ManagedSegmentLayout.DirectoryOffset(Participants);
        long heapStart = ManagedSegmentLayout.HeapStart(Participants, Entries);
        (long Start, long Length)[] regions =
        [
            (0, StructureHeader.Size),
            (ManagedSegmentLayout.ControlBlockOffset, 64),
            (ManagedSegmentLayout.ParticipantTableStart, Participants * ParticipantTable.SlotSize),
            (directory, Entries * ManagedDirectory.EntrySize),
            (0, heapStart),
        ];
        var outcomes = new Dictionary<string, int>();

        // A case: a region, a position in it, and 1..64 random bytes; or a single field set to a random 32-bit value.
        Gen<(int Region, int Position, byte[] Bytes, bool Aligned)> cases =
            Gen.Select(Gen.Int[0, regions.Length - 1], Gen.Int[0, int.MaxValue], Gen.Byte.Array[1, 64], Gen.Bool);
        cases.Sample(c =>
        {
            raw.WriteBytes(0, pristine);
            (long start, long length) = regions[c.Region];
            long at = start + (c.Position % length);
            if (c.Aligned)
            {
                at &= ~3L; // a whole 32-bit field
            }

            int count = (int)Math.Min(c.Aligned ? 4 : c.Bytes.Length, start + length - at);
            raw.WriteBytes(at, c.Bytes.AsSpan(0, Math.Min(count, c.Bytes.Length)));

            Task<string> open = Task.Run(() => OpenAndUse(key));
            Assert.True(open.Wait(s_perCase), $"opening with garbage at {at} did not finish within {s_perCase}");
            string outcome = open.Result;
            lock (outcomes)
            {
                outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            }
        }, iter: 3000, threads: 1);

        raw.WriteBytes(0, pristine);
        using var fine = ManagedSegment.Open(key, TimeSpan.Zero);
        Assert.Equal(s_blocks.Length + 1, fine.GetEntries().Count);

        // The generator reached both sides: harmless garbage that opens, and garbage each check rejects.
        Assert.True(outcomes.GetValueOrDefault("ok") > 0, Describe(outcomes));
        Assert.True(outcomes.GetValueOrDefault(nameof(ShmLayoutException)) > 0, Describe(outcomes));
        Assert.Equal(3000, outcomes.Values.Sum());
    }

    [Fact]
    public void Random_Bytes_Over_A_Whole_Plain_Segment_Are_Never_Mistaken_For_A_Managed_Segment()
    {
        using var cleanup = new IpcCleanup();
        IpcKey key = cleanup.NewKey();
        var segment = cleanup.Add(SharedMemorySegment.CreateNew(key, 16 * 1024));
        using var raw = segment.Attach();
        Gen.Byte.Array[16 * 1024].Sample(bytes =>
        {
            raw.WriteBytes(0, bytes);
            Task<string> open = Task.Run(() => OpenAndUse(key));
            Assert.True(open.Wait(s_perCase));
            Assert.True(open.Result is nameof(ShmLayoutException) or nameof(ShmStructureNotReadyException), open.Result);
        }, iter: 1000, threads: 1);
    }

    /// <summary>
    /// Opens without waiting and uses every read path (participants, entries, the blocks by name, a structure).
    /// Returns "ok" or the name of a specific exception; anything else propagates and fails the case.
    /// </summary>
    private static string OpenAndUse(IpcKey key)
    {
        try
        {
            using var segment = ManagedSegment.Open(key, TimeSpan.Zero);
            _ = segment.GetParticipants();
            _ = segment.GetEntries();
            foreach (string name in s_blocks)
            {
                _ = segment.FindBlock(name, TimeSpan.Zero);
            }

            _ = segment.Find("s-struct", ShmStructureKind.Event, 1, TimeSpan.Zero);
            _ = segment.HeapUsed;
            return "ok";
        }
        catch (Exception e) when (e is ShmLayoutException or ShmStructurePoisonedException or ShmStructureNotReadyException
            or ShmCapacityException or ShmNameConflictException)
        {
            return e.GetType().Name;
        }
    }

    private static string Describe(Dictionary<string, int> outcomes) =>
        string.Join(", ", outcomes.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}: {kv.Value}"));
}
