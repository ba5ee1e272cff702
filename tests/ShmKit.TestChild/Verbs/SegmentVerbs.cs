using System.Globalization;

namespace ShmKit.TestChild;

/// <summary>The other process of the shared memory segment tests (tests/ShmKit.Tests/Segments).</summary>
internal static class SegmentVerbs
{
    /// <summary>
    /// The byte the parent writes at <paramref name="index"/> of record <paramref name="record"/> of the table
    /// (shared with the tests: ShmKit.Tests.Segments.CrossProcessTests.Pattern).
    /// </summary>
    internal static byte Pattern(int record, int index) => (byte)((record * 31) + (index * 7) + 1);

    /// <summary>The byte the child writes into the record it edits.</summary>
    internal static byte Edited(int index) => (byte)(0xA0 ^ index);

    /// <summary>
    /// Args: key recordSize records recordToEdit. Opens the segment by key, checks that every record holds the
    /// parent's pattern (prints "SAW OK" or the first mismatch), then overwrites one record in the middle and
    /// prints "EDITED". Shared fields: the parent wrote the table before starting this process and reads it only
    /// after this process exited, so process start and exit order every access and neither side sees a record
    /// mid-update.
    /// </summary>
    [Verb("shm-edit-record")]
    public static int EditRecord(string[] args)
    {
        var key = IpcKey.Parse(args[0], CultureInfo.InvariantCulture);
        int recordSize = int.Parse(args[1], CultureInfo.InvariantCulture);
        int records = int.Parse(args[2], CultureInfo.InvariantCulture);
        int edit = int.Parse(args[3], CultureInfo.InvariantCulture);

        var segment = SharedMemorySegment.Open(key);
        using var attachment = segment.Attach();
        using var lease = attachment.Acquire();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"SIZE {segment.Size}"));
        for (int r = 0; r < records; r++)
        {
            ReadOnlySpan<byte> record = lease.GetSpan((long)r * recordSize, recordSize);
            for (int i = 0; i < recordSize; i++)
            {
                if (record[i] != Pattern(r, i))
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"SAW MISMATCH record {r} byte {i}: {record[i]}"));
                    return 3;
                }
            }
        }

        Console.WriteLine("SAW OK");
        Span<byte> target = lease.GetSpan((long)edit * recordSize, recordSize);
        for (int i = 0; i < recordSize; i++)
        {
            target[i] = Edited(i);
        }

        Console.WriteLine("EDITED");
        return 0;
    }

    /// <summary>
    /// Args: key. Attaches read-only and prints "PERMS xxxx" with the permission column of the /proc/self/maps line
    /// that starts at the attach address, and "FIRST n" with the first byte.
    /// </summary>
    [Verb("shm-readonly-maps")]
    public static int ReadOnlyMaps(string[] args)
    {
        var segment = SharedMemorySegment.Open(IpcKey.Parse(args[0], CultureInfo.InvariantCulture));
        using var attachment = segment.AttachReadOnly();
        string start = ((ulong)attachment.Address).ToString("x", CultureInfo.InvariantCulture) + "-";
        string? line = File.ReadLines("/proc/self/maps").FirstOrDefault(l => l.StartsWith(start, StringComparison.Ordinal));
        if (line is null)
        {
            Console.Error.WriteLine($"no mapping starts at {start}");
            return 3;
        }

        Console.WriteLine("PERMS " + line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"FIRST {attachment.Read<byte>(0)}"));
        return 0;
    }

    /// <summary>
    /// Args: key. Attaches read-only, prints "ATTACHED", then writes through the raw address with unsafe code. The
    /// page is mapped without write permission, so the process must die (SIGSEGV) before it prints "WROTE".
    /// </summary>
    [Verb("shm-readonly-write")]
    public static unsafe int ReadOnlyWrite(string[] args)
    {
        var segment = SharedMemorySegment.Open(IpcKey.Parse(args[0], CultureInfo.InvariantCulture));
        var attachment = segment.AttachReadOnly();
        Console.WriteLine("ATTACHED");
        Console.Out.Flush();
        *(byte*)attachment.Address = 0x5A;
        Console.WriteLine("WROTE");
        attachment.Dispose();
        return 0;
    }

    /// <summary>
    /// Args: key. Run as an unprivileged user: tries each access and prints "name: OK" or "name: ExceptionType"
    /// for open-or-create (default mode 0600), open, attach (read-write), attach-ro, setmode and remove. Exits 0
    /// whatever the outcomes.
    /// </summary>
    [Verb("shm-access")]
    public static int Access(string[] args)
    {
        var key = IpcKey.Parse(args[0], CultureInfo.InvariantCulture);
        SharedMemorySegment? segment = null;
        Try("open-or-create", () => SharedMemorySegment.OpenOrCreate(key, 4096));
        Try("open", () => segment = SharedMemorySegment.Open(key));
        if (segment is null)
        {
            return 0;
        }

        Try("attach", () => segment.Attach().Dispose());
        Try("attach-ro", () => segment.AttachReadOnly().Dispose());
        Try("setmode", () => segment.SetMode(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite));
        Try("remove", segment.Remove);
        return 0;
    }

    /// <summary>
    /// Run in a fresh IPC namespace whose kernel.shmmax and kernel.shmmni the parent lowered: prints "MAX n" and
    /// "MNI n" (GetLimits), then "OVER Type|message" for a segment of shmmax + 1 bytes, then creates private
    /// segments until the kernel refuses and prints "FULL Type|message" and "CREATED n". Removes what it made.
    /// </summary>
    [Verb("shm-limits")]
    public static int Limits(string[] args)
    {
        var limits = SharedMemorySegment.GetLimits();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"MAX {limits.MaxSegmentSize}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"MNI {limits.MaxSegments}"));
        try
        {
            SharedMemorySegment.CreatePrivate((long)limits.MaxSegmentSize + 1).Remove();
            Console.WriteLine("OVER created");
        }
        catch (Exception e)
        {
            Console.WriteLine($"OVER {e.GetType().Name}|{e.Message}");
        }

        var made = new List<SharedMemorySegment>();
        try
        {
            for (ulong i = 0; i <= limits.MaxSegments; i++)
            {
                made.Add(SharedMemorySegment.CreatePrivate(4096));
            }

            Console.WriteLine("FULL never");
        }
        catch (Exception e)
        {
            Console.WriteLine($"FULL {e.GetType().Name}|{e.Message}");
        }
        finally
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"CREATED {made.Count}"));
            foreach (var segment in made)
            {
                segment.Remove();
            }
        }

        return 0;
    }

    /// <summary>
    /// Run as an unprivileged user: creates a private segment (prints "ID n"), takes every permission away from
    /// itself and gives it back, reporting "stat-closed", "setmode-none", "setmode-back" and "mode: nnnn"; removes it.
    /// </summary>
    [Verb("shm-own-mode")]
    public static int OwnMode(string[] args)
    {
        var segment = SharedMemorySegment.CreatePrivate(4096);
        try
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ID {segment.Id}"));
            Console.Out.Flush();
            Try("setmode-none", () => segment.SetMode(0));
            Try("stat-closed", () => segment.Stat());
            Try("setmode-back", () => segment.SetMode(UnixFileMode.UserRead | UnixFileMode.UserWrite));
            Console.WriteLine("mode: " + Convert.ToString((int)segment.Stat().Mode, 8).PadLeft(4, '0'));
            Try("attach", () => segment.Attach().Dispose());
        }
        finally
        {
            segment.Remove();
        }

        return 0;
    }

    /// <summary>
    /// Args: size. Creates a private segment of that size (prints "ID n"), reports "lock" and "unlock" outcomes,
    /// then removes it. The parent runs it as nobody under a chosen RLIMIT_MEMLOCK.
    /// </summary>
    [Verb("shm-lock")]
    public static int LockSegment(string[] args)
    {
        var segment = SharedMemorySegment.CreatePrivate(long.Parse(args[0], CultureInfo.InvariantCulture));
        try
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ID {segment.Id}"));
            Console.Out.Flush();
            Try("lock", segment.LockInMemory);
            Console.WriteLine("locked: " + (segment.Stat().IsLocked ? "yes" : "no"));
            Try("unlock", segment.UnlockInMemory);
        }
        finally
        {
            segment.Remove();
        }

        return 0;
    }

    /// <summary>
    /// Args: key1 key2. Run as an unprivileged user: creates segments whose mode (0200, write only) does not let
    /// their owner read them, with CreateNew (key1), OpenOrCreate (key2, twice) and CreatePrivate, then opens key1
    /// and key2 by key and removes them. Prints "name: OK" or "name: ExceptionType" for each step, and "LEAKED id"
    /// for every segment this process created that is still there at the end (which it then removes by id).
    /// </summary>
    [Verb("shm-unreadable")]
    public static int Unreadable(string[] args)
    {
        var key1 = IpcKey.Parse(args[0], CultureInfo.InvariantCulture);
        var key2 = IpcKey.Parse(args[1], CultureInfo.InvariantCulture);
        const UnixFileMode writeOnly = UnixFileMode.UserWrite;
        Try("create-new", () => SharedMemorySegment.CreateNew(key1, 4096, writeOnly));
        Try("open-or-create", () => Expect(SharedMemorySegment.OpenOrCreate(key2, 4096, writeOnly).WasCreated, "WasCreated"));
        Try("open-or-create-again", () => Expect(!SharedMemorySegment.OpenOrCreate(key2, 4096, writeOnly).WasCreated, "!WasCreated"));
        Try("create-private", () => SharedMemorySegment.CreatePrivate(4096, writeOnly).Remove());
        Try("remove-1", () => SharedMemorySegment.Open(key1).Remove());
        Try("remove-2", () => SharedMemorySegment.Open(key2).Remove());
        ReportLeaks();
        return 0;
    }

    /// <summary>Prints "LEAKED id" for every segment this process created that still exists, and removes it.</summary>
    internal static void ReportLeaks()
    {
        foreach (var info in SharedMemorySegment.GetAll().Where(s => s.CreatorProcessId == Environment.ProcessId && !s.IsMarkedForRemoval))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"LEAKED {info.Id}"));
            SharedMemorySegment.Remove(info.Id);
        }
    }

    private static void Expect(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException("expected " + what);
        }
    }

    private static void Try(string name, Action action)
    {
        try
        {
            action();
            Console.WriteLine(name + ": OK");
        }
        catch (Exception e)
        {
            Console.WriteLine($"{name}: {e.GetType().Name}");
            Console.Error.WriteLine($"{name}: {e.GetType().Name}: {e.Message}");
        }
    }
}
