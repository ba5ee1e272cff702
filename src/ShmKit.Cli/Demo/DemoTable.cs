using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace ShmKit.Cli.Demo;

/// <summary>
/// The demo's data as it lies in the shared segment: a header, a log of the client's updates, and a table of
/// fixed-size records. Offsets only, no pointers: the segment is mapped at a different address in each process.
/// </summary>
/// <remarks>
/// Layout (all little-endian, naturally aligned):
/// <code>
///   0  DemoHeader (64 bytes)
///  64  update log: MaxUpdates x DemoUpdate (16 bytes each)
/// 1024 records: RecordCount x DemoRecord (64 bytes each)
/// </code>
/// Every field is read and written only while holding the rendezvous lock (a System V semaphore with SEM_UNDO),
/// or, for the initial table, before the server opens the ready gate. semop is a full barrier on both sides, so no
/// field needs Volatile/Interlocked; a process killed inside the lock can leave one record half-written, which its
/// checksum then reveals.
/// </remarks>
internal static class DemoTable
{
    /// <summary>"SHMKDEMO" as a little-endian 64-bit number: tells our table from garbage or another program's data.</summary>
    internal const ulong Magic = 0x4F4D45444B4D4853;

    internal const int FormatVersion = 1;
    internal const int HeaderOffset = 0;
    internal const int UpdateLogOffset = 64;
    internal const int MaxUpdates = 32;
    internal const int RecordsOffset = 1024;
    internal const int RecordSize = 64;

    internal static long SizeFor(int recordCount) => RecordsOffset + ((long)recordCount * RecordSize);

    internal static long RecordOffset(int index) => RecordsOffset + ((long)index * RecordSize);

    internal static long UpdateOffset(int index) => UpdateLogOffset + ((long)index * 16);

    /// <summary>
    /// Why a client cannot make <paramref name="updates"/> updates in a table of <paramref name="records"/>, or null
    /// when it can. The client updates records in the middle, never the first or the last, each at most once: that
    /// takes <paramref name="updates"/> + 2 records.
    /// </summary>
    internal static string? CheckUpdates(int records, int updates) =>
        updates == 0 || records >= updates + 2 ? null : string.Create(CultureInfo.InvariantCulture,
            $"--updates {updates} needs at least {updates + 2} records, not {records}: the client updates distinct records in the middle of the table, never the first or the last. Give --records {updates + 2} or more, or at most --updates {Math.Max(records - 2, 0)}");

    /// <summary>
    /// <paramref name="count"/> distinct indexes among the middle records 1..<paramref name="records"/> - 2, in random
    /// order, in exactly <paramref name="count"/> steps (Floyd's sampling): it ends for every valid input
    /// (<see cref="CheckUpdates"/>), however few records there are to choose from.
    /// </summary>
    internal static List<int> ChooseMiddleRecords(int records, int count, Random random)
    {
        int middle = records - 2;
        if (count < 0 || count > Math.Max(middle, 0))
        {
            throw new ArgumentOutOfRangeException(nameof(count), CheckUpdates(records, count));
        }

        var chosen = new HashSet<int>();
        var order = new List<int>(count);
        for (int j = middle - count; j < middle; j++)
        {
            int pick = random.Next(0, j + 1);
            int index = 1 + (chosen.Contains(pick) ? j : pick);
            chosen.Add(index - 1);
            order.Add(index);
        }

        // Floyd's method picks a uniform set, but not a uniform order: shuffle it.
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(order));
        return order;
    }

    /// <summary>The record the server writes at <paramref name="index"/>.</summary>
    internal static DemoRecord InitialRecord(int index)
    {
        var record = new DemoRecord { Id = index, Version = 1, Value = index * 100L, UpdatedBy = 0 };
        record.SetName(string.Create(CultureInfo.InvariantCulture, $"sensor-{index:D4}"));
        record.Checksum = record.ComputeChecksum();
        return record;
    }

    /// <summary>
    /// Checks that a segment holds a demo table that fits in it. Everything read from shared memory is checked
    /// before use: another program may own the key, or a server may have died half-way.
    /// </summary>
    internal static DemoHeader ReadValidHeader(SharedMemoryAttachment view)
    {
        if (view.Length < RecordsOffset)
        {
            throw new IpcException(string.Create(CultureInfo.InvariantCulture,
                $"The segment {view.Segment.Key} has {view.Length} bytes, too small for a demo table: another program uses this key. Pick another with --key."));
        }

        var header = view.Read<DemoHeader>(HeaderOffset);
        if (header.Magic != Magic)
        {
            throw new IpcException(string.Create(CultureInfo.InvariantCulture,
                $"The segment {view.Segment.Key} does not hold a demo table (magic 0x{header.Magic:x16}, expected 0x{Magic:x16}): another program uses this key. Pick another with --key."));
        }

        if (header.FormatVersion != FormatVersion || header.RecordSize != RecordSize)
        {
            throw new IpcException(string.Create(CultureInfo.InvariantCulture,
                $"The demo table in {view.Segment.Key} has format {header.FormatVersion} with {header.RecordSize}-byte records; this shmkit reads format {FormatVersion} with {RecordSize}-byte records."));
        }

        if (header.RecordCount < 0 || SizeFor(header.RecordCount) > view.Length || header.UpdateCount is < 0 or > MaxUpdates)
        {
            throw new IpcException(string.Create(CultureInfo.InvariantCulture,
                $"The demo table in {view.Segment.Key} is corrupt: {header.RecordCount} records and {header.UpdateCount} updates do not fit in {view.Length} bytes."));
        }

        return header;
    }
}

/// <summary>The table's header (64 bytes at offset 0). Every field is accessed under the rendezvous lock.</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal struct DemoHeader
{
    /// <summary>Written once by the server before the gate opens; read by the client after WaitReady.</summary>
    [FieldOffset(0)] public ulong Magic;

    /// <summary>Written once by the server before the gate opens.</summary>
    [FieldOffset(8)] public int FormatVersion;

    /// <summary>Written once by the server before the gate opens.</summary>
    [FieldOffset(12)] public int RecordCount;

    /// <summary>Written once by the server before the gate opens.</summary>
    [FieldOffset(16)] public int RecordSize;

    /// <summary>The server's pid, for the client's SIGUSR1 doorbell. Written by the server before the gate opens.</summary>
    [FieldOffset(20)] public int ServerProcessId;

    /// <summary>Written by the client under the lock; read by the server under the lock.</summary>
    [FieldOffset(24)] public int ClientProcessId;

    /// <summary>Entries used in the update log. Written by the client under the lock, read by the server under the lock.</summary>
    [FieldOffset(28)] public int UpdateCount;

    /// <summary>1 once the client has finished its updates. Written by the client under the lock; read by the server under the lock.</summary>
    [FieldOffset(32)] public int ClientDone;
}

/// <summary>One entry of the client's update log (16 bytes). Written by the client under the lock.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
internal struct DemoUpdate
{
    [FieldOffset(0)] public int Index;
    [FieldOffset(8)] public long NewValue;
}

/// <summary>A record of the table (64 bytes, one cache line). Written by the server, then by the client, under the lock.</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal unsafe struct DemoRecord
{
    [FieldOffset(0)] public int Id;
    [FieldOffset(4)] public int Version;
    [FieldOffset(8)] public long Value;
    [FieldOffset(16)] public fixed byte Name[32];
    [FieldOffset(48)] public long UpdatedBy;

    /// <summary>FNV-1a (64-bit) of the first 56 bytes: a record torn by a crash, or not ours, fails it.</summary>
    [FieldOffset(56)] public ulong Checksum;

    internal readonly string GetName()
    {
        fixed (byte* name = Name)
        {
            var bytes = new ReadOnlySpan<byte>(name, 32);
            int end = bytes.IndexOf((byte)0);
            return Encoding.ASCII.GetString(end < 0 ? bytes : bytes[..end]);
        }
    }

    internal void SetName(string name)
    {
        fixed (byte* dest = Name)
        {
            var span = new Span<byte>(dest, 32);
            span.Clear();
            Encoding.ASCII.GetBytes(name.AsSpan(0, Math.Min(name.Length, 31)), span);
        }
    }

    internal readonly ulong ComputeChecksum()
    {
        DemoRecord copy = this;
        ulong hash = 14695981039346656037UL;
        foreach (byte b in MemoryMarshal.AsBytes(new ReadOnlySpan<DemoRecord>(ref copy))[..56])
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }
}
