using System.Globalization;
using System.Runtime.InteropServices;

namespace ShmKit.Tests.Futexes;

/// <summary>
/// Helpers of the futex tests: a real System V segment holding the words, and /proc views of a thread (which system
/// call it is blocked in, how often it was switched out voluntarily).
/// </summary>
internal sealed unsafe class FutexSegment : IDisposable
{
    private readonly IpcCleanup _cleanup = new();

    private readonly MappingLease _lease;

    internal FutexSegment(int size = 64 * 1024)
    {
        Key = _cleanup.NewKey();
        Segment = SharedMemorySegment.CreateNew(Key, size);
        Attachment = Segment.Attach();
        _lease = new MappingLease(Attachment);
    }

    /// <summary>
    /// A reference-counted hold on the attachment, as the primitives pass it to async waits: the segment is detached
    /// only when the test has disposed it and no registered wait holds it any more, so a failing test cannot unmap a
    /// word under the waiter thread.
    /// </summary>
    internal SafeHandle Mapping => _lease;

    internal IpcKey Key { get; }

    internal SharedMemorySegment Segment { get; }

    internal SharedMemoryAttachment Attachment { get; }

    /// <summary>The word at <paramref name="offset"/> (4-byte aligned).</summary>
    internal int* Word(long offset) => (int*)(Attachment.Address + (nint)offset);

    internal int Load(long offset) => Volatile.Read(ref *Word(offset));

    internal void Store(long offset, int value) => Interlocked.Exchange(ref *Word(offset), value);

    internal int WakeAll(long offset) => Futex.WakeAll(Word(offset));

    /// <summary><see cref="FutexWaitThread.WaitAsync"/> on the word at <paramref name="offset"/> (for async tests, which cannot hold pointers).</summary>
    internal ValueTask<FutexWaitResult> WaitAsync(long offset, int expected, long deadline, CancellationToken cancellationToken, ProcessIdentity? watch = null, SafeHandle? mapping = null) =>
        FutexWaitThread.WaitAsync(Word(offset), expected, deadline, mapping ?? _lease, cancellationToken, watch);

    public void Dispose()
    {
        _lease.Dispose();
        _cleanup.Dispose();
    }

    private sealed class MappingLease(SharedMemoryAttachment attachment) : SafeHandle(-1, ownsHandle: true)
    {
        public override bool IsInvalid => false;

        protected override bool ReleaseHandle()
        {
            attachment.Dispose();
            return true;
        }
    }
}

internal static class FutexTestSupport
{
    internal static readonly TimeSpan Generous = TimeSpan.FromSeconds(10);

    /// <summary>Polls <paramref name="condition"/> every few ms until true; fails after <see cref="Generous"/>.</summary>
    internal static void WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Generous;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting for {what}");
            }

            Thread.Sleep(2);
        }
    }

    /// <summary>
    /// True when thread <paramref name="tid"/> of process <paramref name="pid"/> is blocked in system call
    /// <paramref name="syscallNumber"/> (/proc/PID/task/TID/syscall starts with the call number while it sleeps).
    /// </summary>
    internal static bool IsBlockedIn(int pid, int tid, long syscallNumber)
    {
        try
        {
            string text = File.ReadAllText($"/proc/{pid}/task/{tid}/syscall");
            string first = text.Split(' ', 2)[0];
            return long.TryParse(first, NumberStyles.Integer, CultureInfo.InvariantCulture, out long nr) && nr == syscallNumber;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>voluntary_ctxt_switches of a thread of this process: how many times it went to sleep.</summary>
    internal static long VoluntarySwitches(int tid)
    {
        string line = File.ReadLines($"/proc/self/task/{tid}/status").Single(l => l.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal));
        return long.Parse(line.Split(':')[1].Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>Starts a thread that records its tid and runs <paramref name="body"/>; returns once the tid is known.</summary>
    internal static (Thread Thread, int Tid) StartThread(Action body)
    {
        int tid = 0;
        var ready = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            Volatile.Write(ref tid, TestInterop.gettid());
            ready.Set();
            body();
        })
        { IsBackground = true };
        thread.Start();
        ready.Wait();
        return (thread, Volatile.Read(ref tid));
    }

    /// <summary>Descriptors of this process that are pidfds.</summary>
    internal static int CountPidfds() =>
        Directory.EnumerateFileSystemEntries("/proc/self/fd")
            .Count(fd =>
            {
                try
                {
                    return new FileInfo(fd).LinkTarget?.Contains("pidfd", StringComparison.Ordinal) == true;
                }
                catch (IOException)
                {
                    return false;
                }
            });
}
