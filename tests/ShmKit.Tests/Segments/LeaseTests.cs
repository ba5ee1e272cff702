using System.Globalization;
using System.Runtime.InteropServices;

namespace ShmKit.Tests.Segments;

/// <summary>
/// Attachment lifetime: copying calls hold a reference, spans and refs come from leases, and no sequence of public
/// calls can unmap memory under its user. The two scenarios that used to kill the process run in a child.
/// </summary>
public class LeaseTests
{
    [StructLayout(LayoutKind.Sequential, Size = 16)]
    private struct Sixteen
    {
        public long A;
        public long B;
    }

    [StructLayout(LayoutKind.Sequential, Size = 12)]
    private struct Twelve
    {
        public int A;
        public int B;
        public int C;
    }

    [StructLayout(LayoutKind.Sequential, Size = 3)]
    private struct Three
    {
        public byte A;
        public byte B;
        public byte C;
    }

    [Fact]
    public void Dispose_Racing_Copying_Calls_And_Leases_Never_Faults()
    {
        // Before leases this child died within the first rounds (fatal AccessViolationException in ReadBytes, exit 134).
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var segment = cleanup.Add(SharedMemorySegment.CreateNew(key, 256 * 1024));
        const int Rounds = 1000;

        var (code, stdout, stderr) = ChildProcess.RunChild("shm-dispose-race", key.ToString(), Rounds.ToString(CultureInfo.InvariantCulture));
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains("SURVIVED", stdout, StringComparison.Ordinal);
        var report = Report(stdout);
        Assert.Equal(Rounds, report["ROUNDS"]);
        Assert.Equal(3 * Rounds, report["DISPOSED"]); // every reader ended every round on ObjectDisposedException
        Assert.True(report["OK"] > 0, stdout);        // and calls did complete while the race was on
        Assert.Equal(0, segment.Stat().AttachCount);
    }

    [Fact]
    public void A_Chained_Lease_Survives_GC_And_Keeps_The_Segment_Attached()
    {
        // Span<byte> s = segment.Attach().Acquire().Span; GC; s[1] = 8. With AsSpan() instead of a lease this child
        // died (the finalizer detached under the span: nattch 0, then a fatal AccessViolationException).
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var segment = cleanup.Add(SharedMemorySegment.CreateNew(key, 4096));

        var (code, stdout, stderr) = ChildProcess.RunChild("shm-chained-lease", key.ToString());
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains("SURVIVED", stdout, StringComparison.Ordinal);
        var report = Report(stdout);
        Assert.Equal(1, report["NATTCH-INLINE"]);
        Assert.Equal(3, report["NATTCH-BEFORE-GC"]);
        Assert.Equal(2, report["NATTCH"]); // the control attachment was finalized (detached); the two leased ones stay
        Assert.Contains("COLLECTED yes", stdout, StringComparison.Ordinal);
        Assert.Contains("READ 8 9", stdout, StringComparison.Ordinal);

        // The leaked mappings lasted exactly until the child exited.
        Assert.Equal(0, segment.Stat().AttachCount);
        using var check = segment.AttachReadOnly();
        Assert.Equal(8, check.Read<byte>(1));
        Assert.Equal(9, check.Read<byte>(2));
    }

    [Fact]
    public void A_Lease_Outliving_Dispose_Keeps_The_Segment_Attached_Until_It_Ends()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        var a = segment.Attach();
        var lease = a.Acquire();
        var second = a.Acquire();
        try
        {
            Assert.Equal(1, segment.Stat().AttachCount);
            a.Dispose();
            Assert.True(a.IsDisposed);
            Assert.Throws<ObjectDisposedException>(() => a.Read<int>(0));
            Assert.Throws<ObjectDisposedException>(() => a.Acquire());

            // The mapping is still there for the leases: writes land in the segment.
            Assert.Equal(1, segment.Stat().AttachCount);
            lease.Span[10] = 42;
            lease.GetAlignedRef<long>(64) = 77;
            second.Dispose();
            Assert.Equal(1, segment.Stat().AttachCount);
            Assert.Equal(42, lease.GetSpan(10, 1)[0]);
        }
        finally
        {
            lease.Dispose();
            second.Dispose();
        }

        Assert.Equal(0, segment.Stat().AttachCount); // the last lease out detached
        lease.Dispose(); // again: nothing
        Assert.Equal(0, segment.Stat().AttachCount);

        using var check = segment.Attach();
        Assert.Equal(42, check.Read<byte>(10));
        Assert.Equal(77, check.Read<long>(64));

        // The same for a read-only attachment.
        var ro = segment.AttachReadOnly();
        Assert.Equal(2, segment.Stat().AttachCount);
        using (var roLease = ro.Acquire())
        {
            ro.Dispose();
            Assert.Equal(2, segment.Stat().AttachCount);
            Assert.Equal(42, roLease.Span[10]);
            Assert.Equal(77, Volatile.Read(in roLease.GetAlignedRef<long>(64)));
        }

        Assert.Equal(1, segment.Stat().AttachCount);
    }

    [Fact]
    public void Use_After_Dispose_Is_ObjectDisposedException_For_Calls_Leases_And_Managers()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        var a = segment.Attach();
        var ro = segment.AttachReadOnly();
        a.Dispose();
        ro.Dispose();

        Assert.Throws<ObjectDisposedException>(() => a.Read<long>(0));
        Assert.Throws<ObjectDisposedException>(() => a.Write(0, 1L));
        Assert.Throws<ObjectDisposedException>(() => a.ReadBytes(0, new byte[8]));
        Assert.Throws<ObjectDisposedException>(() => a.WriteBytes(0, new byte[8]));
        Assert.Throws<ObjectDisposedException>(() => a.Clear(0, 8));
        Assert.Throws<ObjectDisposedException>(() => a.Acquire());
        Assert.Throws<ObjectDisposedException>(() => a.Address);
        Assert.Throws<ObjectDisposedException>(() => new SharedMemoryManager(a, 0, 8));
        Assert.Throws<ObjectDisposedException>(() => ro.Read<long>(0));
        Assert.Throws<ObjectDisposedException>(() => ro.ReadBytes(0, new byte[8]));
        Assert.Throws<ObjectDisposedException>(() => ro.Acquire());
        Assert.Throws<ObjectDisposedException>(() => ro.Address);
        Assert.Throws<ObjectDisposedException>(() => new ReadOnlySharedMemoryOwner(ro, 0, 8));

        // A disposed lease, and a default one, refuse every access.
        using var live = segment.Attach();
        Assert.Throws<ObjectDisposedException>(() => DisposedLease(live, l => _ = l.Span.Length));
        Assert.Throws<ObjectDisposedException>(() => DisposedLease(live, l => _ = l.GetSpan(0, 1).Length));
        Assert.Throws<ObjectDisposedException>(() => DisposedLease(live, l => _ = l.GetSpan<int>(0, 1).Length));
        Assert.Throws<ObjectDisposedException>(() => DisposedLease(live, l => _ = l.GetRef<int>(0)));
        Assert.Throws<ObjectDisposedException>(() => DisposedLease(live, l => _ = l.GetAlignedRef<int>(0)));
        Assert.Throws<ObjectDisposedException>(() => DisposedLease(live, l => _ = l.Address));
        var e = Assert.Throws<ObjectDisposedException>(() => _ = default(SharedMemoryLease).Span.Length);
        Assert.Contains("lease has been disposed", e.Message, StringComparison.Ordinal);
        Assert.Throws<ObjectDisposedException>(() => _ = default(ReadOnlySharedMemoryLease).GetRef<int>(0));
        Assert.Equal(0, default(SharedMemoryLease).Length);
        default(SharedMemoryLease).Dispose(); // harmless

        using var liveRo = segment.AttachReadOnly();
        Assert.Throws<ObjectDisposedException>(() =>
        {
            var l = liveRo.Acquire();
            l.Dispose();
            _ = l.Span.Length;
        });

        // A disposed manager refuses its span, its Memory's span and new pins.
        var manager = new SharedMemoryManager(live, 0, 64);
        var memory = manager.Memory;
        manager.Dispose();
        manager.Dispose(); // twice is fine
        Assert.Throws<ObjectDisposedException>(() => manager.GetSpan());
        Assert.Throws<ObjectDisposedException>(() => memory.Span.Length);
        Assert.Throws<ObjectDisposedException>(() => memory.Pin());
        Assert.Throws<ObjectDisposedException>(() => manager.Memory);

        var owner = new ReadOnlySharedMemoryOwner(liveRo, 0, 64);
        owner.Dispose();
        Assert.Throws<ObjectDisposedException>(() => owner.Memory);

        // Every reference the refused calls might have taken has been given back.
        live.Dispose();
        liveRo.Dispose();
        Assert.Equal(0, segment.Stat().AttachCount);
    }

    [Fact]
    public void GetAlignedRef_Rejects_Misaligned_Offsets_With_A_Specific_Exception()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        using var a = segment.Attach();
        using var ro = segment.AttachReadOnly();
        using var lease = a.Acquire();
        using var roLease = ro.Acquire();

        for (long offset = 8; offset < 16; offset++)
        {
            bool aligned = offset % 8 == 0;
            Assert.Equal(aligned, Aligned<long>(a, offset));
            Assert.Equal(aligned, AlignedReadOnly<long>(ro, offset));
            Assert.Equal(offset % 4 == 0, Aligned<int>(a, offset));
            Assert.Equal(offset % 2 == 0, Aligned<short>(a, offset));
            Assert.True(Aligned<byte>(a, offset));
            Assert.Equal(aligned, Aligned<Sixteen>(a, offset)); // larger than 8: at most 8-byte alignment
            Assert.Equal(offset % 4 == 0, Aligned<Twelve>(a, offset));
            Assert.True(Aligned<Three>(a, offset));

            // Plain refs take any alignment.
            lease.GetRef<long>(offset) = offset;
            Assert.Equal(offset, roLease.GetRef<long>(offset));
        }

        var e = Assert.Throws<SharedMemoryAlignmentException>(() =>
        {
            using var l = a.Acquire();
            _ = l.GetAlignedRef<long>(4084);
        });
        Assert.Equal(4084, e.Offset);
        Assert.Equal(8, e.RequiredAlignment);
        Assert.Equal("offset", e.ParamName);
        Assert.Contains("Offset 4084 is not 8-byte aligned for Int64", e.Message, StringComparison.Ordinal);
        Assert.Contains("Interlocked", e.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<ArgumentException>(e);

        // Bounds are checked before alignment: out of range is still ArgumentOutOfRangeException.
        Assert.Throws<ArgumentOutOfRangeException>(() =>
        {
            using var l = a.Acquire();
            _ = l.GetAlignedRef<long>(4093);
        });
        Assert.Equal(2, segment.Stat().AttachCount);
    }

    [Fact]
    public void Interlocked_On_Aligned_Refs_Adds_Up_Across_Two_Attachments()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        using var a = segment.Attach();
        using var b = segment.Attach();
        Assert.NotEqual(a.Address, b.Address);
        const int PerThread = 100_000;

        // Shared counter at offset 256: incremented by both threads (each through its own attachment, so at two
        // addresses of the same page) with Interlocked, read after both joined (Join orders it).
        void Add(SharedMemoryAttachment attachment)
        {
            using var lease = attachment.Acquire();
            ref long counter = ref lease.GetAlignedRef<long>(256);
            for (int i = 0; i < PerThread; i++)
            {
                Interlocked.Increment(ref counter);
            }
        }

        var t1 = new Thread(() => Add(a));
        var t2 = new Thread(() => Add(b));
        t1.Start();
        t2.Start();
        t1.Join();
        t2.Join();

        Assert.Equal(2L * PerThread, a.Read<long>(256));
        using var ro = segment.AttachReadOnly();
        using var roLease = ro.Acquire();
        Assert.Equal(2L * PerThread, Volatile.Read(in roLease.GetAlignedRef<long>(256)));
    }

    [Fact]
    public void Pin_Keeps_The_Mapping_After_The_Attachment_And_The_Manager_Are_Disposed()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        var a = segment.Attach();
        var manager = new SharedMemoryManager(a, 100, 50);
        Assert.Equal(100, manager.Offset);
        Assert.Equal(50, manager.Length);
        Memory<byte> memory = manager.Memory;
        Assert.Equal(50, memory.Length);
        memory.Span.Fill(3);
        Assert.Equal(3, a.Read<byte>(100));
        Assert.Equal(3, a.Read<byte>(149));
        Assert.Equal(0, a.Read<byte>(150));
        Assert.Equal(3, memory.Slice(10, 5).Span[4]);

        var pin = memory.Slice(20).Pin();
        var copy = pin; // a MemoryHandle copy: disposing both must not give back more than one reference
        a.Dispose();
        manager.Dispose();
        Assert.Throws<ObjectDisposedException>(() => memory.Span.Length);
        Assert.Equal(1, segment.Stat().AttachCount);
        unsafe
        {
            ((byte*)pin.Pointer)[0] = 9; // offset 120
        }

        pin.Dispose();
        Assert.Equal(0, segment.Stat().AttachCount); // the pin was the last reference
        copy.Dispose();                              // an excess Unpin: ignored
        Assert.Equal(0, segment.Stat().AttachCount);

        using var check = segment.Attach();
        Assert.Equal(9, check.Read<byte>(120));
        Assert.Equal(3, check.Read<byte>(119));
    }

    [Fact]
    public void A_Manager_Keeps_The_Mapping_Until_Its_Dispose_And_Excess_Unpins_Take_Nothing()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        var a = segment.Attach();
        var manager = new SharedMemoryManager(a, 0, 4096);
        var first = manager.Pin();
        first.Dispose();
        manager.Unpin(); // excess: no pin outstanding
        manager.Unpin();
        a.Dispose();
        Assert.Equal(1, segment.Stat().AttachCount); // still the manager's
        manager.Memory.Span[4095] = 1;
        manager.Dispose();
        Assert.Equal(0, segment.Stat().AttachCount);

        // Bad regions are refused before any reference is taken.
        using var b = segment.Attach();
        Assert.Throws<ArgumentOutOfRangeException>(() => new SharedMemoryManager(b, 4000, 97));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SharedMemoryManager(b, -1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SharedMemoryManager(b, 0, -1));
        Assert.Throws<ArgumentNullException>(() => new SharedMemoryManager((SharedMemoryAttachment)null!, 0, 1));
        using var inBounds = new SharedMemoryManager(b, 4000, 96);
        Assert.Throws<ArgumentOutOfRangeException>(() => inBounds.Pin(97));
        b.Dispose();
        Assert.Equal(1, segment.Stat().AttachCount);
        inBounds.Dispose();
        Assert.Equal(0, segment.Stat().AttachCount);
    }

    [Fact]
    public void ReadOnly_Owner_Gives_ReadOnlyMemory_That_Pins_Past_Dispose()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        using (var a = segment.Attach())
        {
            a.WriteBytes(1000, "shared"u8);
        }

        var ro = segment.AttachReadOnly();
        var owner = new ReadOnlySharedMemoryOwner(ro, 1000, 6);
        Assert.Equal(1000, owner.Offset);
        Assert.Equal(6, owner.Length);
        ReadOnlyMemory<byte> memory = owner.Memory;
        Assert.Equal("shared"u8.ToArray(), memory.ToArray());
        var pin = memory.Pin();
        ro.Dispose();
        owner.Dispose();
        Assert.Equal(1, segment.Stat().AttachCount);
        unsafe
        {
            Assert.Equal((byte)'s', ((byte*)pin.Pointer)[0]);
        }

        pin.Dispose();
        Assert.Equal(0, segment.Stat().AttachCount);
    }

    [Fact]
    public void Typed_Offsets_Resolve_Only_Inside_The_Segment_Whatever_Shared_Memory_Says()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        using var a = segment.Attach();
        Assert.Equal(8, System.Runtime.CompilerServices.Unsafe.SizeOf<ShmOffset<long>>()); // one int64_t in shared structures

        // A peer stores an offset in the segment; this side reads it back and resolves it.
        a.Write(0, new ShmOffset<long>(512));
        var stored = a.Read<ShmOffset<long>>(0);
        Assert.Equal(new ShmOffset<long>(512), stored);
        Assert.Equal(512, stored.Value);
        Assert.Equal("Int64 at offset 512", stored.ToString());
        using (var lease = a.Acquire())
        {
            stored.ResolveAligned(lease) = 5;
            stored.Add(1).Resolve(lease) = 6;
            Assert.Equal([5L, 6L], stored.ResolveSpan(lease, 2).ToArray());
        }

        Assert.Equal(5, a.Read<long>(512));
        Assert.Equal(6, a.Read<long>(520));
        using (var ro = segment.AttachReadOnly())
        using (var roLease = ro.Acquire())
        {
            Assert.Equal(6, stored.Add(1).Resolve(roLease));
            Assert.Equal(5, Volatile.Read(in stored.ResolveAligned(roLease)));
            Assert.Equal(2, stored.ResolveSpan(roLease, 2).Length);
        }

        // Hostile values written into the segment: every one is refused against the real size, none reaches memory.
        foreach (long hostile in new[] { -1L, -8L, 4089L, 4096L, long.MaxValue, long.MinValue, 1L << 40 })
        {
            a.Write(8, new ShmOffset<long>(hostile));
            var bad = a.Read<ShmOffset<long>>(8);
            Assert.Throws<ArgumentOutOfRangeException>(() =>
            {
                using var lease = a.Acquire();
                _ = bad.Resolve(lease);
            });
            Assert.Throws<ArgumentOutOfRangeException>(() =>
            {
                using var lease = a.Acquire();
                _ = bad.ResolveSpan(lease, 1).Length;
            });
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => new ShmOffset<long>(long.MaxValue - 8).Add(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ShmOffset<Sixteen>(0).Add(long.MaxValue));
        Assert.Equal(new ShmOffset<int>(96), new ShmOffset<int>(100).Add(-1));
        Assert.Throws<SharedMemoryAlignmentException>(() =>
        {
            using var lease = a.Acquire();
            _ = new ShmOffset<long>(4).ResolveAligned(lease);
        });
        Assert.True(new ShmOffset<int>(4) != new ShmOffset<int>(8));
        Assert.Equal(1, segment.Stat().AttachCount);
    }

    [Fact]
    public void Cache_Line_Constants_Are_A_Line_And_The_Prefetcher_Pair()
    {
        Assert.Equal(64, CacheLine.Size);
        Assert.Equal(2 * CacheLine.Size, CacheLine.FalseSharingDistance);
    }

    private static bool Aligned<T>(SharedMemoryAttachment a, long offset)
        where T : unmanaged
    {
        using var lease = a.Acquire();
        try
        {
            _ = lease.GetAlignedRef<T>(offset);
            return true;
        }
        catch (SharedMemoryAlignmentException e)
        {
            Assert.Equal(offset, e.Offset);
            return false;
        }
    }

    private static bool AlignedReadOnly<T>(ReadOnlySharedMemoryAttachment a, long offset)
        where T : unmanaged
    {
        using var lease = a.Acquire();
        try
        {
            _ = lease.GetAlignedRef<T>(offset);
            return true;
        }
        catch (SharedMemoryAlignmentException)
        {
            return false;
        }
    }

    /// <summary>Acquires a lease, disposes it, then hands it to <paramref name="use"/>.</summary>
    private static void DisposedLease(SharedMemoryAttachment a, LeaseAction use)
    {
        var lease = a.Acquire();
        lease.Dispose();
        use(lease);
    }

    private static Dictionary<string, long> Report(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split(' '))
            .Where(f => f.Length == 2 && long.TryParse(f[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            .ToDictionary(f => f[0], f => long.Parse(f[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
}
