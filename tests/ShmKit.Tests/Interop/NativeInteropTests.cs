using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using ShmKit.Tests.Segments;

namespace ShmKit.Tests.Interop;

/// <summary>Segments shared with C programs (shmget/shmat in C, ShmKit in C#) and with util-linux ipcmk.</summary>
public partial class NativeInteropTests
{
    /// <summary>
    /// The C side declares the same record; both are 32 bytes: id at 0, value at 8, name at 16. Shared fields: in
    /// each test exactly one side writes every record (the C writer, or ShmKit) and the other reads them only after
    /// the writer has finished (the C program has exited, or ShmKit wrote before starting the C reader): process
    /// exit and start order the accesses, and no reader ever sees a record mid-update.
    /// </summary>
    private const string CRecord = """
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <stddef.h>
        #include <stdint.h>
        #include <unistd.h>
        #include <sys/ipc.h>
        #include <sys/shm.h>

        struct record { int32_t id; double value; char name[16]; };
        """;

    private const string CWriter = CRecord + """
        /* argv: key records. Creates the segment (IPC_CREAT|IPC_EXCL, 0600), writes records, detaches, exits. */
        int main(int argc, char **argv) {
            key_t key = (key_t)strtoul(argv[1], NULL, 0);
            int n = atoi(argv[2]);
            printf("LAYOUT %zu %zu %zu %zu\n", sizeof(struct record), offsetof(struct record, id), offsetof(struct record, value), offsetof(struct record, name));
            int id = shmget(key, sizeof(struct record) * n, IPC_CREAT | IPC_EXCL | 0600);
            if (id < 0) { perror("shmget"); return 1; }
            struct record *r = shmat(id, NULL, 0);
            if (r == (void *)-1) { perror("shmat"); return 1; }
            for (int i = 0; i < n; i++) {
                r[i].id = 1000 + i;
                r[i].value = i + 0.25;
                snprintf(r[i].name, sizeof r[i].name, "rec-%d", i);
            }
            printf("ID %d PID %d\n", id, (int)getpid());
            return shmdt(r) == 0 ? 0 : 1;
        }
        """;

    private const string CReader = CRecord + """
        /* argv: key. Opens the existing segment by key, read-only, and prints every record. */
        int main(int argc, char **argv) {
            key_t key = (key_t)strtoul(argv[1], NULL, 0);
            int id = shmget(key, 0, 0);
            if (id < 0) { perror("shmget"); return 1; }
            struct shmid_ds ds;
            if (shmctl(id, IPC_STAT, &ds) < 0) { perror("shmctl"); return 1; }
            const struct record *r = shmat(id, NULL, SHM_RDONLY);
            if (r == (void *)-1) { perror("shmat"); return 1; }
            size_t n = ds.shm_segsz / sizeof(struct record);
            printf("SIZE %zu NATTCH %lu CPID %d\n", (size_t)ds.shm_segsz, (unsigned long)ds.shm_nattch, (int)ds.shm_cpid);
            for (size_t i = 0; i < n; i++) {
                printf("REC %d %.17g %.16s\n", r[i].id, r[i].value, r[i].name);
            }
            return shmdt(r) == 0 ? 0 : 1;
        }
        """;

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct Record
    {
        public int Id;
        public double Value;
        public fixed byte Name[16];

        public string GetName()
        {
            fixed (byte* p = Name)
            {
                var span = new ReadOnlySpan<byte>(p, 16);
                int end = span.IndexOf((byte)0);
                return Encoding.ASCII.GetString(end < 0 ? span : span[..end]);
            }
        }

        public void SetName(string name)
        {
            fixed (byte* p = Name)
            {
                var span = new Span<byte>(p, 16);
                span.Clear();
                Encoding.ASCII.GetBytes(name, span[..15]);
            }
        }
    }

    [GeneratedRegex(@"Shared memory id: (\d+)")]
    private static partial Regex IpcmkOutput();

    [EnvironmentFact(Needs.Gcc)]
    public unsafe void Segment_Written_By_C_Is_Read_By_ShmKit_Through_A_Blittable_Struct()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        using var writer = NativeProgram.Compile(CWriter, "writer");
        var (code, stdout, stderr) = writer.Run(key.ToString(), "3");
        Assert.True(code == 0, stderr);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"LAYOUT {sizeof(Record)} {Marshal.OffsetOf<Record>("Id")} {Marshal.OffsetOf<Record>("Value")} {Marshal.OffsetOf<Record>("Name")}"), stdout, StringComparison.Ordinal);
        var ids = Regex.Match(stdout, @"ID (\d+) PID (\d+)");
        Assert.True(ids.Success, stdout);

        var segment = cleanup.Add(SharedMemorySegment.Open(key));
        Assert.Equal(int.Parse(ids.Groups[1].Value, CultureInfo.InvariantCulture), segment.Id);
        Assert.Equal(3 * sizeof(Record), segment.Size);
        var info = segment.Stat();
        Assert.Equal(int.Parse(ids.Groups[2].Value, CultureInfo.InvariantCulture), info.CreatorProcessId);
        Assert.Equal(SharedMemorySegment.DefaultMode, info.Mode);
        Assert.Equal(0, info.AttachCount);

        using var view = segment.AttachReadOnly();
        using var lease = view.Acquire();
        ReadOnlySpan<Record> records = lease.GetSpan<Record>(0, 3);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(1000 + i, records[i].Id);
            Assert.Equal(i + 0.25, records[i].Value);
            Assert.Equal($"rec-{i}", records[i].GetName());
            Assert.Equal(records[i].Id, view.Read<Record>(i * sizeof(Record)).Id);
            Assert.Equal(records[i].Value, lease.GetRef<Record>(i * sizeof(Record)).Value);
        }
    }

    [EnvironmentFact(Needs.Gcc)]
    public unsafe void Segment_Written_By_ShmKit_Is_Read_By_C()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var segment = cleanup.Add(SharedMemorySegment.CreateNew(key, 2 * sizeof(Record)));
        using (var a = segment.Attach())
        {
            var first = new Record { Id = 7, Value = Math.PI };
            first.SetName("from-csharp");
            a.Write(0, first);

            using var lease = a.Acquire();
            ref Record second = ref lease.GetRef<Record>(sizeof(Record));
            second.Id = -42;
            second.Value = -1e-300;
            second.SetName("fifteen-chars-x");
        }

        using var reader = NativeProgram.Compile(CReader, "reader");
        var (code, stdout, stderr) = reader.Run(key.ToString());
        Assert.True(code == 0, stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"SIZE {2 * sizeof(Record)} NATTCH 0 CPID {Environment.ProcessId}"), lines[0]);
        Assert.Equal("REC 7 3.1415926535897931 from-csharp", lines[1]);
        Assert.Equal("REC -42 -1e-300 fifteen-chars-x", lines[2]);
        Assert.Equal(3, lines.Length);

        var info = segment.Stat();
        Assert.Equal(0, info.AttachCount);
        Assert.NotEqual(Environment.ProcessId, info.LastOperationProcessId); // the C reader attached last
    }

    [Fact]
    public void Segments_Made_By_Ipcmk_Are_Listed_And_Readable()
    {
        using var cleanup = new IpcCleanup();
        var (code, stdout, stderr) = SegmentTestSupport.Run("ipcmk", "-M", "4096");
        Assert.True(code == 0, stderr);
        var match = IpcmkOutput().Match(stdout);
        Assert.True(match.Success, stdout);
        int id = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        cleanup.AddId('m', id);

        var listed = Assert.Single(SharedMemorySegment.GetAll(), s => s.Id == id);
        Assert.Equal(4096, listed.Size);
        Assert.Equal((UnixFileMode)0x1A4, listed.Mode); // ipcmk's default 0644
        Assert.False(listed.Key.IsPrivate);             // ipcmk picks a random key
        Assert.Equal(0, listed.AttachCount);
        Assert.NotEqual(Environment.ProcessId, listed.CreatorProcessId);

        var segment = SharedMemorySegment.OpenById(id);
        Assert.Equal(listed.Key, segment.Key);
        Assert.Equal(4096, segment.Size);
        Assert.Equal(id, SharedMemorySegment.Open(segment.Key).Id);
        using (var view = segment.AttachReadOnly())
        {
            Assert.True(view.ReadAll().AsSpan().IndexOfAnyExcept((byte)0) < 0);
        }

        using (var a = segment.Attach())
        {
            a.Write(4092, 0x01020304);
            Assert.Equal(0x01020304, a.Read<int>(4092));
        }

        // ipcs, the other tool, sees what ShmKit sees.
        var (_, ipcs, _) = SegmentTestSupport.Run("ipcs", "-m", "-i", id.ToString(CultureInfo.InvariantCulture));
        Assert.Contains("bytes=4096", ipcs, StringComparison.Ordinal);
        Assert.Contains("mode=0644", ipcs, StringComparison.Ordinal);
    }
}
