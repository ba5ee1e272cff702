using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ShmKit.Tests.Segments;

/// <summary>Attach and AttachReadOnly: random access, bounds, address hints, lifetime.</summary>
public class AttachmentTests
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Record
    {
        public int Id;
        public double Value;
        public long Stamp;
    }

    [Fact]
    public void Two_Attachments_In_One_Process_Map_The_Same_Memory_At_Different_Addresses()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(8192));
        using var a = segment.Attach();
        using var b = segment.Attach();
        Assert.NotEqual(a.Address, b.Address);
        Assert.Same(segment, a.Segment);
        Assert.Equal(8192, a.Length);
        Assert.False(a.IsDisposed);

        a.Write(5000, 0x0102030405060708L);
        Assert.Equal(0x0102030405060708L, b.Read<long>(5000));
        using (var lb = b.Acquire())
        using (var la = a.Acquire())
        {
            lb.GetSpan(100, 3).Fill(9);
            Assert.Equal([9, 9, 9], la.GetSpan(100, 3).ToArray());
        }

        // New segments are zero-filled.
        Assert.Equal(0, a.Read<long>(0));
        Assert.Equal(0, b.Read<long>(8184));
    }

    [Fact]
    public void Typed_Values_At_Any_Offset_Touch_Only_Their_Bytes()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        using var a = segment.Attach();
        using var lease = a.Acquire();
        lease.Span.Fill(0xCC);

        a.Write(1, 0x11223344);                     // unaligned int
        a.Write(13, 3.25);                          // unaligned double
        a.Write<byte>(4095, 0x7F);                  // last byte
        a.Write(2001, new Record { Id = 7, Value = 1.5, Stamp = -3 });

        Assert.Equal(0x11223344, a.Read<int>(1));
        Assert.Equal(3.25, a.Read<double>(13));
        Assert.Equal(0x7F, a.Read<byte>(4095));
        var r = a.Read<Record>(2001);
        Assert.Equal((7, 1.5, -3L), (r.Id, r.Value, r.Stamp));

        // Bytes around the written values are untouched.
        Assert.Equal(0xCC, a.Read<byte>(0));
        Assert.Equal(0xCC, a.Read<byte>(5));
        Assert.Equal(0xCC, a.Read<byte>(12));
        Assert.Equal(0xCC, a.Read<byte>(21));
        Assert.Equal(0xCC, a.Read<byte>(4094));
        Assert.Equal(0xCC, a.Read<byte>(2000));
        Assert.Equal(0xCC, a.Read<byte>(2001 + 24));
        Assert.Equal(0x44, lease.GetSpan(1, 1)[0]); // little-endian
    }

    [Fact]
    public void Lease_Refs_Update_In_Place_And_Work_With_Interlocked_And_Volatile()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        using var a = segment.Attach();
        using var b = segment.Attach();
        using var la = a.Acquire();
        using var lb = b.Acquire();

        ref long counter = ref la.GetAlignedRef<long>(64);
        counter = 10;
        Assert.Equal(11, Interlocked.Increment(ref counter));
        Assert.Equal(11, Volatile.Read(in lb.GetAlignedRef<long>(64)));

        ref Record rec = ref la.GetRef<Record>(128);
        rec.Value = 2.5;
        rec.Id = 5;
        Assert.Equal(5, b.Read<Record>(128).Id);
        Assert.Equal(2.5, b.Read<Record>(128).Value);

        using var ro = segment.AttachReadOnly();
        using var lro = ro.Acquire();
        ref readonly Record view = ref lro.GetRef<Record>(128);
        Assert.Equal(5, view.Id);
        rec.Id = 6;
        Assert.Equal(6, view.Id); // the same shared page, seen live
    }

    [Fact]
    public void Spans_Bytes_Clear_And_Whole_Span()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(1000));
        using var a = segment.Attach();
        using var lease = a.Acquire();
        Assert.Equal(1000, lease.Span.Length);
        Assert.Equal(1000, lease.Length);

        byte[] data = Enumerable.Range(1, 50).Select(i => (byte)i).ToArray();
        a.WriteBytes(300, data);
        byte[] back = new byte[50];
        a.ReadBytes(300, back);
        Assert.Equal(data, back);
        Assert.Equal(0, a.Read<byte>(299));
        Assert.Equal(0, a.Read<byte>(350));

        Span<int> ints = lease.GetSpan<int>(400, 10);
        for (int i = 0; i < ints.Length; i++)
        {
            ints[i] = i * i;
        }

        Assert.Equal(81, a.Read<int>(400 + (9 * 4)));
        Assert.Equal(0, lease.GetSpan<int>(0, 0).Length);
        Assert.Equal(0, lease.GetSpan(1000, 0).Length); // an empty span at the very end is in bounds

        a.Clear(301, 48);
        a.ReadBytes(300, back);
        Assert.Equal(1, back[0]);
        Assert.All(back[1..49], x => Assert.Equal(0, x));
        Assert.Equal(50, back[49]);

        lease.Span.Fill(0xAB);
        a.Clear(0, 1000);
        Assert.True(lease.Span.IndexOfAnyExcept((byte)0) < 0);

        using var ro = segment.AttachReadOnly();
        using var lro = ro.Acquire();
        a.WriteBytes(0, data);
        Assert.Equal(data, lro.GetSpan(0, 50).ToArray());
        Assert.Equal(data.Length / 2, lro.GetSpan<short>(0, 25).Length);
        Assert.Equal(1000, lro.Span.Length);
        byte[] roBack = new byte[50];
        ro.ReadBytes(0, roBack);
        Assert.Equal(data, roBack);
        Assert.Equal(data[0], ro.Read<byte>(0));
        Assert.Equal(1000, ro.Length);
        Assert.Same(segment, ro.Segment);
    }

    [EnvironmentFact(Needs.OvercommitNotStrict)]
    public void Segments_Beyond_2_GiB_Use_Long_Offsets_And_Refuse_A_Whole_Span()
    {
        // NoReserve and untouched: only the two pages written below are ever allocated.
        const long Size = (3L << 30) + 4096;
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(Size, options: SharedMemoryCreateOptions.NoReserve));
        using var a = segment.Attach();
        Assert.Equal(Size, a.Length);

        a.Write(Size - 8, 0x55AA55AA55AA55AAL);
        a.Write((long)int.MaxValue + 1, 17);
        Assert.Equal(0x55AA55AA55AA55AAL, a.Read<long>(Size - 8));
        using (var lease = a.Acquire())
        {
            Assert.Equal(17, lease.GetSpan<int>((long)int.MaxValue + 1, 1)[0]);
            Assert.Equal(17, lease.GetAlignedRef<int>((long)int.MaxValue + 1));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => a.Read<long>(Size - 7));

        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
        {
            using var lease = a.Acquire();
            _ = lease.Span;
        });
        Assert.Contains("2147483647", e.Message, StringComparison.Ordinal);
        using var ro = segment.AttachReadOnly();
        Assert.Throws<ArgumentOutOfRangeException>(() =>
        {
            using var lease = ro.Acquire();
            _ = lease.Span;
        });
        Assert.Equal(17, ro.Read<int>((long)int.MaxValue + 1));
    }

    public static TheoryData<long, long> OutOfBounds => new()
    {
        { 4096, 1 },        // starts at the end
        { 4089, 8 },        // straddles the end
        { 0, 4097 },        // longer than the segment
        { 5000, 0 },        // empty but past the end
        { long.MaxValue, 8 },
        { long.MaxValue - 2, 8 }, // offset + length overflows
    };

    [Theory]
    [MemberData(nameof(OutOfBounds))]
    public void Out_Of_Bounds_Is_ArgumentOutOfRangeException_Naming_Offset_Length_And_Size(long offset, long length)
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        using var a = segment.Attach();
        using var ro = segment.AttachReadOnly();

        void Check(Action action)
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(action);
            Assert.Contains(offset.ToString(CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
            Assert.Contains(length.ToString(CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
            Assert.Contains("4096", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("-", e.Message.Replace(offset.ToString(CultureInfo.InvariantCulture), string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        }

        int intLength = (int)Math.Min(length, int.MaxValue);
        Check(() => a.Clear(offset, length));
        if (length == 8)
        {
            Check(() => a.Read<long>(offset));
            Check(() => a.Write(offset, 1L));
            Check(() => a.WithLease(l => _ = l.GetRef<long>(offset)));
            Check(() => a.WithLease(l => _ = l.GetAlignedRef<long>(offset)));
            Check(() => ro.Read<long>(offset));
            Check(() => ro.WithLease(l => _ = l.GetRef<long>(offset)));
            Check(() => ro.WithLease(l => _ = l.GetAlignedRef<long>(offset)));
            Check(() => a.WithLease(l => _ = l.GetSpan<long>(offset, 1).Length));
            Check(() => ro.WithLease(l => _ = l.GetSpan<long>(offset, 1).Length));
        }

        if (length == intLength)
        {
            Check(() => a.WithLease(l => _ = l.GetSpan(offset, intLength).Length));
            Check(() => ro.WithLease(l => _ = l.GetSpan(offset, intLength).Length));
            Check(() => a.ReadBytes(offset, new byte[intLength]));
            Check(() => a.WriteBytes(offset, new byte[intLength]));
            Check(() => ro.ReadBytes(offset, new byte[intLength]));
        }

        // Nothing was written by the failed calls, and every lease the checks took has been given back.
        using (var lease = a.Acquire())
        {
            Assert.True(lease.Span.IndexOfAnyExcept((byte)0) < 0);
        }

        a.Dispose();
        ro.Dispose();
        Assert.Equal(0, segment.Stat().AttachCount);
    }

    [Fact]
    public void Negative_Offsets_And_Lengths_Are_ArgumentOutOfRangeException()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        using var a = segment.Attach();
        using var ro = segment.AttachReadOnly();

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => a.Read<int>(-1));
        Assert.Equal("offset", e.ParamName);
        Assert.Contains("-1", e.Message, StringComparison.Ordinal);
        Assert.Contains("4096", e.Message, StringComparison.Ordinal);
        Assert.Contains("negative", e.Message, StringComparison.Ordinal);

        Assert.Throws<ArgumentOutOfRangeException>(() => a.Write(-4, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.WithLease(l => _ = l.GetRef<int>(long.MinValue)));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.WriteBytes(-1, new byte[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ro.Read<int>(-8));
        Assert.Throws<ArgumentOutOfRangeException>(() => ro.ReadBytes(-1, new byte[1]));

        var len = Assert.Throws<ArgumentOutOfRangeException>(() => a.WithLease(l => _ = l.GetSpan(0, -1).Length));
        Assert.Equal("length", len.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => ro.WithLease(l => _ = l.GetSpan(10, -5).Length));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Clear(0, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.WithLease(l => _ = l.GetSpan<int>(0, -1).Length));
        Assert.Throws<ArgumentOutOfRangeException>(() => ro.WithLease(l => _ = l.GetSpan<int>(0, -1).Length));
        Assert.Throws<ArgumentOutOfRangeException>(() => a.WithLease(l => _ = l.GetSpan<long>(0, int.MaxValue).Length));
    }

    [Fact]
    public void After_Dispose_Every_Access_Is_ObjectDisposedException_And_The_Segment_Stays()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        var a = segment.Attach();
        var ro = segment.AttachReadOnly();
        a.Write(0, 77);
        Assert.Equal(2, segment.Stat().AttachCount);

        a.Dispose();
        ro.Dispose();
        a.Dispose(); // twice is fine
        ro.Dispose();
        Assert.True(a.IsDisposed);
        Assert.True(ro.IsDisposed);

        Assert.Throws<ObjectDisposedException>(() => a.Read<int>(0));
        Assert.Throws<ObjectDisposedException>(() => a.Write(0, 1));
        Assert.Throws<ObjectDisposedException>(() => a.Acquire());
        Assert.Throws<ObjectDisposedException>(() => a.Address);
        Assert.Throws<ObjectDisposedException>(() => a.ReadBytes(0, new byte[1]));
        Assert.Throws<ObjectDisposedException>(() => a.WriteBytes(0, new byte[1]));
        Assert.Throws<ObjectDisposedException>(() => a.Clear(0, 1));
        Assert.Throws<ObjectDisposedException>(() => a.Read<int>(-1)); // disposed wins over bounds
        Assert.Throws<ObjectDisposedException>(() => ro.Read<int>(0));
        Assert.Throws<ObjectDisposedException>(() => ro.Acquire());
        Assert.Throws<ObjectDisposedException>(() => ro.Address);
        Assert.Throws<ObjectDisposedException>(() => ro.ReadBytes(0, new byte[1]));

        // Detaching never removes the segment: it and its data are still there.
        var info = segment.Stat();
        Assert.Equal(0, info.AttachCount);
        Assert.False(info.IsMarkedForRemoval);
        using var again = SharedMemorySegment.OpenById(segment.Id).Attach();
        Assert.Equal(77, again.Read<int>(0));
    }

    [Fact]
    public void A_Forgotten_Attachment_Is_Detached_By_The_Finalizer()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));
        AttachAndForget(segment);
        Assert.Equal(2, segment.Stat().AttachCount);

        for (int i = 0; i < 3 && segment.Stat().AttachCount > 0; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.Equal(0, segment.Stat().AttachCount);
        Assert.NotNull(segment.Stat().LastDetachTime);

        [MethodImpl(MethodImplOptions.NoInlining)]
        static void AttachAndForget(SharedMemorySegment segment)
        {
            segment.Attach().Write(0, 1);
            _ = segment.AttachReadOnly().Read<int>(0);
        }
    }

    [Fact]
    public void Address_Hint_Is_Used_Exactly_Or_Rounded_With_SHM_RND()
    {
        using var cleanup = new IpcCleanup();
        var segment = cleanup.Add(SharedMemorySegment.CreatePrivate(4096));

        // Learn a free address: attach a larger scratch segment and detach it, leaving a 1 MiB hole, then aim
        // into its lower part (the runtime's own mmaps, e.g. the JIT's, land at the top of the highest gap). Retry
        // with a new hole if something still took the spot in between.
        nint learned = 0;
        for (int attempt = 0; attempt < 5 && learned == 0; attempt++)
        {
            var scratch = SharedMemorySegment.CreatePrivate(1 << 20);
            try
            {
                using var probe = scratch.Attach();
                learned = probe.Address + (256 << 10);
            }
            finally
            {
                scratch.Remove();
            }

            try
            {
                segment.Attach(learned).Dispose();
            }
            catch (ArgumentException)
            {
                learned = 0;
            }
        }

        Assert.NotEqual(0, learned);
        Assert.Equal(0, learned % Environment.SystemPageSize);

        // The exact page-aligned hint is honoured.
        using (var exact = segment.Attach(learned))
        {
            Assert.Equal(learned, exact.Address);
        }

        // An unaligned hint is rounded down to SHMLBA (the page size on x86-64 and arm64) with roundAddressHint.
        using (var rounded = segment.Attach(learned + 123, roundAddressHint: true))
        {
            Assert.Equal(learned, rounded.Address);
            rounded.Write(0, 5);
        }

        using (var roRounded = segment.AttachReadOnly(learned + 4000, roundAddressHint: true))
        {
            Assert.Equal(learned, roRounded.Address);
            Assert.Equal(5, roRounded.Read<int>(0));
        }

        // Without rounding an unaligned hint is the caller's mistake: ArgumentException naming the parameter.
        var e = Assert.Throws<ArgumentException>(() => segment.Attach(learned + 123));
        Assert.Equal("addressHint", e.ParamName);
        Assert.Contains("SHM_RND", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => segment.AttachReadOnly(learned + 1));

        // A hint over an existing mapping is refused too (no SHM_REMAP).
        using var held = segment.Attach(learned);
        Assert.Throws<ArgumentException>(() => segment.Attach(learned));
        Assert.Equal(1, segment.Stat().AttachCount);
    }

    [Fact]
    public void ReadOnly_Types_Have_No_Way_To_Write()
    {
        // The read-only attachment, its lease and its memory owner: none may hand out a writable span, ref, Memory or
        // pointer, or take data to write.
        foreach (var type in new[] { typeof(ReadOnlySharedMemoryAttachment), typeof(ReadOnlySharedMemoryLease), typeof(ReadOnlySharedMemoryOwner) })
        {
            var methods = type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly);
            Assert.NotEmpty(methods);
            foreach (var m in methods)
            {
                string name = $"{type.Name}.{m.Name}";
                Assert.False(m.Name.StartsWith("Write", StringComparison.Ordinal), $"{name} writes");
                Assert.False(m.Name.StartsWith("Clear", StringComparison.Ordinal), $"{name} writes");
                Assert.False(m.Name.StartsWith("Fill", StringComparison.Ordinal), $"{name} writes");

                var ret = m.ReturnType;
                Assert.False(ret.IsGenericType && ret.GetGenericTypeDefinition() == typeof(Span<>), $"{name} returns a writable Span");
                Assert.False(ret.IsGenericType && ret.GetGenericTypeDefinition() == typeof(Memory<>), $"{name} returns a writable Memory");
                Assert.False(ret == typeof(SharedMemoryLease), $"{name} returns a read-write lease");
                Assert.False(ret.IsPointer, $"{name} returns a pointer");
                if (ret.IsByRef)
                {
                    bool readOnlyRef = m.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(InAttribute))
                        || m.ReturnParameter.CustomAttributes.Any(a => a.AttributeType.Name == "IsReadOnlyAttribute");
                    Assert.True(readOnlyRef, $"{name} returns a writable ref");
                }

                foreach (var p in m.GetParameters())
                {
                    // A method taking a source span of the segment's data would be a write path.
                    Assert.False(p.ParameterType.IsGenericType && p.ParameterType.GetGenericTypeDefinition() == typeof(ReadOnlySpan<>), $"{name}({p.Name}) takes data to write");
                }
            }

            Assert.Empty(type.GetFields(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static));
            Assert.All(type.GetProperties(), p => Assert.False(p.CanWrite, $"{type.Name}.{p.Name} is settable"));
        }

        var roLease = typeof(ReadOnlySharedMemoryLease);
        Assert.Contains(roLease.GetMethods(), m => m.Name == "GetRef" && m.ReturnType.IsByRef);
        Assert.Contains(roLease.GetMethods(), m => m.Name == "GetSpan" && m.ReturnType.GetGenericTypeDefinition() == typeof(ReadOnlySpan<>));
        Assert.Equal(typeof(ReadOnlySharedMemoryLease), typeof(ReadOnlySharedMemoryAttachment).GetMethod("Acquire")!.ReturnType);

        // The read-write types, by contrast, do have them (the checks above would catch them).
        Assert.NotNull(typeof(SharedMemoryAttachment).GetMethod("WriteBytes"));
        var rwLease = typeof(SharedMemoryLease);
        Assert.Contains(rwLease.GetMethods(), m => m.Name == "GetSpan" && m.ReturnType.GetGenericTypeDefinition() == typeof(Span<>));
        Assert.DoesNotContain(typeof(InAttribute), rwLease.GetMethod("GetRef")!.ReturnParameter.GetRequiredCustomModifiers());
    }

    [Fact]
    public void Attachments_Hand_Out_No_Span_Or_Ref_Only_Leases()
    {
        // Spans and refs only from leases: an attachment method returning one could be unmapped under its caller
        // (segment.Attach().AsSpan() used to be, by the finalizer).
        foreach (var type in new[] { typeof(SharedMemoryAttachment), typeof(ReadOnlySharedMemoryAttachment) })
        {
            foreach (var m in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
            {
                var ret = m.ReturnType;
                bool span = ret.IsGenericType && (ret.GetGenericTypeDefinition() == typeof(Span<>) || ret.GetGenericTypeDefinition() == typeof(ReadOnlySpan<>));
                Assert.False(span, $"{type.Name}.{m.Name} returns a span");
                Assert.False(ret.IsByRef, $"{type.Name}.{m.Name} returns a ref");
                Assert.False(ret.IsPointer, $"{type.Name}.{m.Name} returns a pointer");
            }

            Assert.Null(type.GetMethod("AsSpan"));
            Assert.Null(type.GetMethod("GetSpan"));
            Assert.Null(type.GetMethod("GetRef"));
        }
    }

    [Fact]
    public void ReadOnly_Pages_Are_Mapped_Without_Write_Permission_In_Another_Process()
    {
        using var cleanup = new IpcCleanup();
        var key = cleanup.NewKey();
        var segment = cleanup.Add(SharedMemorySegment.CreateNew(key, 4096));
        using (var a = segment.Attach())
        {
            a.Write<byte>(0, 42);
        }

        // Shared byte 0: written by this process before the child starts, only read by the child (process start
        // orders it). /proc/self/maps of the child shows the attach as readable, shared, not writable.
        var (code, stdout, stderr) = ChildProcess.RunChild("shm-readonly-maps", key.ToString());
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains("PERMS r--s", stdout, StringComparison.Ordinal);
        Assert.Contains("FIRST 42", stdout, StringComparison.Ordinal);

        // Writing through the raw address faults: the runtime turns SIGSEGV into a fatal AccessViolationException
        // and aborts (SIGABRT, 134), or the process dies of SIGSEGV (139). Either way it never reaches "WROTE".
        var (wcode, wout, werr) = ChildProcess.RunChild("shm-readonly-write", key.ToString());
        Assert.Contains("ATTACHED", wout, StringComparison.Ordinal);
        Assert.DoesNotContain("WROTE", wout, StringComparison.Ordinal);
        Assert.True(wcode is 134 or 139, $"exit {wcode}\n{wout}\n{werr}");
        Assert.True(wcode == 139 || werr.Contains("AccessViolationException", StringComparison.Ordinal), werr);

        using var check = segment.AttachReadOnly();
        Assert.Equal(42, check.Read<byte>(0));
        Assert.Equal(0, segment.Stat().AttachCount - 1);
    }
}
