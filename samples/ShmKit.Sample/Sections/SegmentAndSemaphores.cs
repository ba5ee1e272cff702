using System.Runtime.InteropServices;

namespace ShmKit.Sample.Sections;

/// <summary>
/// A shared memory segment and a semaphore set, both private (IPC_PRIVATE, mode 0600) and handed to the peer by id.
/// The lead fills the segment with a table of numbers and releases semaphore 0; the peer waits on it, sums the table
/// through a lease's span, writes the sum back with <c>Write&lt;T&gt;</c> and releases semaphore 1; the lead waits
/// on that, checks the sum and removes both objects.
/// </summary>
internal static class SegmentAndSemaphores
{
    internal static readonly SampleSection Section = new("segment-and-semaphores", Lead, Peer);

    private const int Count = 4096;
    private const long SumOffset = 0;          // the peer's answer: one long
    private const long TableOffset = 64;       // the table: Count longs, after the answer's cache line
    private const int DataReady = 0;           // semaphore 0: the lead has written the table
    private const int SumReady = 1;            // semaphore 1: the peer has written the sum

    private static string Lead(PeerLauncher launcher)
    {
        var segment = SharedMemorySegment.CreatePrivate(TableOffset + (Count * sizeof(long)));
        SemaphoreSet? semaphores = null;
        System.Diagnostics.Process? peer = null;
        try
        {
            semaphores = SemaphoreSet.CreatePrivate([0, 0]);
            long expected = 0;
            using (var attachment = segment.Attach())
            {
                for (int i = 0; i < Count; i++)
                {
                    long value = (long)i * i;
                    attachment.Write(TableOffset + (i * sizeof(long)), value);
                    expected += value;
                }
            }

            peer = launcher.Start(segment.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), semaphores.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));

            // No SEM_UNDO: these are hand-offs between processes, not locks.
            semaphores.Release(DataReady, undo: false);
            semaphores.Wait(SumReady, timeout: PeerLauncher.Timeout, undo: false);
            long sum;
            using (var attachment = segment.AttachReadOnly())
            {
                sum = attachment.Read<long>(SumOffset);
            }

            PeerLauncher.WaitForSuccess(peer);
            return sum == expected
                ? $"the peer summed {Count} numbers from the segment: {sum}"
                : throw new InvalidOperationException($"the peer's sum is {sum}, expected {expected}");
        }
        finally
        {
            if (peer is not null)
            {
                PeerLauncher.Kill(peer);
            }

            // Removed also on failure: a segment disappears when its last attachment goes; a set at once.
            segment.Remove();
            semaphores?.Remove();
        }
    }

    private static int Peer(string[] args)
    {
        var segment = SharedMemorySegment.OpenById(int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture));
        var semaphores = SemaphoreSet.OpenById(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture));
        semaphores.Wait(DataReady, timeout: PeerLauncher.Timeout, undo: false);
        using var attachment = segment.Attach();
        long sum = 0;
        using (var lease = attachment.Acquire())
        {
            // The table in place, as longs: no copy out of the segment.
            var table = MemoryMarshal.Cast<byte, long>(lease.Span.Slice((int)TableOffset, Count * sizeof(long)));
            foreach (long value in table)
            {
                sum += value;
            }
        }

        attachment.Write(SumOffset, sum);
        semaphores.Release(SumReady, undo: false);
        return 0;
    }
}
