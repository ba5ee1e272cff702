using System.Globalization;

namespace ShmKit.TestChild;

/// <summary>The other processes of the managed segment tests (tests/ShmKit.Tests/Memory).</summary>
internal static class ManagedSegmentVerbs
{
    /// <summary>The layout version the tests use for their Event-kind structures.</summary>
    internal const ushort TestStructureVersion = 1;

    /// <summary>The size of a test structure of kind Event (a header and one cache line).</summary>
    internal const long TestStructureSize = 128;

    /// <summary>
    /// Args: keys(comma-separated) size participants entries barrierSemId childIndex names(comma-separated). For each
    /// round r (one key per round): waits at barrier semaphore r (-1, then wait for zero: every child arrives before
    /// any goes on), opens-or-creates the managed segment, then finds-or-creates every name in a child-specific order
    /// (names starting with "s" are Event-kind structures with a header, the rest 128-byte blocks), prints
    /// "SEG r created|opened" and "ENT r name offset created|found", disposes. Prints "DONE" at the end.
    /// </summary>
    [Verb("managed-race")]
    public static int Race(string[] args)
    {
        string[] keys = args[0].Split(',');
        long size = long.Parse(args[1], CultureInfo.InvariantCulture);
        var options = new ManagedSegmentOptions
        {
            ParticipantCapacity = int.Parse(args[2], CultureInfo.InvariantCulture),
            DirectoryCapacity = int.Parse(args[3], CultureInfo.InvariantCulture),
        };
        var barrier = SemaphoreSet.OpenById(int.Parse(args[4], CultureInfo.InvariantCulture));
        int child = int.Parse(args[5], CultureInfo.InvariantCulture);
        string[] names = args[6].Split(',');
        Console.WriteLine("READY");
        for (int round = 0; round < keys.Length; round++)
        {
            barrier.Wait(round, 1, TimeSpan.FromSeconds(30), undo: false);
            barrier.WaitForZero(round, TimeSpan.FromSeconds(30));
            var key = IpcKey.Parse(keys[round], CultureInfo.InvariantCulture);
            using var segment = ManagedSegment.OpenOrCreate(key, size, options, TimeSpan.FromSeconds(20));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"SEG {round} {(segment.WasCreated ? "created" : "opened")}"));
            var order = names.ToArray();
            new Random((child * 7919) + round).Shuffle(order);
            foreach (string name in order)
            {
                (long offset, bool created) = name.StartsWith('s')
                    ? FindOrCreateStructure(segment, name)
                    : Block(segment.OpenOrCreateBlock(name, 128, TimeSpan.FromSeconds(20)));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ENT {round} {name} {offset} {(created ? "created" : "found")}"));
            }
        }

        Console.WriteLine("DONE");
        return 0;
    }

    /// <summary>
    /// Args: key [EXIT-on-stdin]. Opens the managed segment, prints "JOINED slot generation pid", then waits for a
    /// line on stdin: "EXIT" disposes (unregisters) and exits 0. The tests usually SIGKILL it instead.
    /// </summary>
    [Verb("managed-join")]
    public static int Join(string[] args)
    {
        var segment = ManagedSegment.Open(IpcKey.Parse(args[0], CultureInfo.InvariantCulture), TimeSpan.FromSeconds(10));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"JOINED {segment.Participant.Slot} {segment.Participant.Generation} {Environment.ProcessId}"));
        Console.Out.Flush();
        string? line = Console.ReadLine();
        if (line == "EXIT")
        {
            segment.Dispose();
        }

        return 0;
    }

    /// <summary>
    /// Args: key size. Creates a managed segment and stops right after claiming its initialization (the token set
    /// exists, nothing is published): prints "CLAIMED tokenSetId", then waits for a line on stdin. "GO" finishes the
    /// initialization, prints "CREATED" and waits for another line before exiting. The tests usually SIGKILL it while
    /// it waits.
    /// </summary>
    [Verb("managed-create-stall")]
    public static int CreateStall(string[] args)
    {
        var key = IpcKey.Parse(args[0], CultureInfo.InvariantCulture);
        long size = long.Parse(args[1], CultureInfo.InvariantCulture);
        var options = new ManagedSegmentOptions
        {
            AfterInitializationClaimed = () =>
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"CLAIMED {SemaphoreSet.FindId(key)}"));
                Console.Out.Flush();
                if (Console.ReadLine() != "GO")
                {
                    Environment.Exit(3);
                }
            },
        };
        using var segment = ManagedSegment.Create(key, size, options);
        Console.WriteLine("CREATED");
        Console.Out.Flush();
        _ = Console.ReadLine();
        return 0;
    }

    /// <summary>
    /// Args: key name. Opens the managed segment and starts constructing an Event-kind structure called
    /// <c>name</c>, stopping inside its initializer (the directory entry is claimed): prints "CONSTRUCTING", then
    /// waits for a line on stdin ("GO" finishes and prints "CREATED offset"). The tests usually SIGKILL it while it waits.
    /// </summary>
    [Verb("managed-construct-stall")]
    public static int ConstructStall(string[] args)
    {
        using var segment = ManagedSegment.Open(IpcKey.Parse(args[0], CultureInfo.InvariantCulture), TimeSpan.FromSeconds(10));
        StructureLocation location = segment.FindOrCreate(args[1], ShmStructureKind.Event, TestStructureVersion, TestStructureSize,
            (in RegionLease _, long _, long _) =>
            {
                Console.WriteLine("CONSTRUCTING");
                Console.Out.Flush();
                if (Console.ReadLine() != "GO")
                {
                    Environment.Exit(3);
                }
            });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"CREATED {location.Offset}"));
        return 0;
    }

    /// <summary>
    /// Finds or creates an Event-kind test structure whose body starts with a StructureHeader, claimed and published
    /// by its initializer; a finder validates the header (it must be Ready, since the entry is published after it).
    /// </summary>
    internal static (long Offset, bool Created) FindOrCreateStructure(ManagedSegment segment, string name)
    {
        StructureLocation location = segment.FindOrCreate(name, ShmStructureKind.Event, TestStructureVersion, TestStructureSize,
            static (in RegionLease lease, long offset, long length) =>
            {
                if (!StructureHeader.TryClaim(lease, offset, ShmStructureKind.Event, out HeaderClaim claim))
                {
                    throw new InvalidOperationException("a fresh structure's header was not all zero");
                }

                lease.Ref<long>(offset + StructureHeader.Size) = 0x5EED;
                StructureHeader.Publish(lease, claim, length, 0, 0, default, "test structure");
            },
            TimeSpan.FromSeconds(20));
        using RegionLease lease = segment.Region.Acquire();
        HeaderAcquisition header = StructureHeader.Acquire(lease, location.Offset, location.Length, ShmStructureKind.Event, HeaderClaimPolicy.OpenOnly,
            MonotonicClock.DeadlineAfter(TimeSpan.Zero), TimeSpan.Zero, segment.Site, "test structure", CancellationToken.None);
        if (header.Claim is not null || header.Header.TotalSize != location.Length || lease.Ref<long>(location.Offset + StructureHeader.Size) != 0x5EED)
        {
            throw new InvalidOperationException($"structure '{name}' is not initialized as published");
        }

        return (location.Offset, location.WasCreated);
    }

    private static (long, bool) Block(ManagedSegmentBlock block) => (block.Offset, block.WasCreated);
}
