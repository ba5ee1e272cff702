using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ShmKit.Bench;

/// <summary>
/// One lock + increment + unlock, written the way a user of the lock writes it (<c>using (lock.Lock()) { ... }</c>):
/// a struct per lock kind, so that <see cref="LockWorkload"/>'s loop is compiled once per lock with the calls inlined
/// (no interface call per operation).
/// </summary>
internal unsafe interface ILockedIncrement
{
    /// <summary>
    /// Takes the lock, runs <see cref="LockWorkload.IncrementUnderLock"/> on <paramref name="words"/> while holding it,
    /// releases it, and returns what that returned (false once the counter has reached <paramref name="limit"/>).
    /// </summary>
    public bool Step(LockWords* words, ulong limit);
}

/// <summary>
/// The words of the lock-2p workload in shared memory: 512 bytes, four 128-byte blocks (x86's adjacent-line prefetcher
/// pulls 64-byte lines in pairs, so fields 64 bytes apart would still bounce together). The lock itself lives
/// elsewhere (a kernel semaphore, a pthread mutex in the C program, a ShmMutex in its managed segment).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
internal struct LockWords
{
    /// <summary>The bytes the words take in the segment.</summary>
    internal const int Size = 512;

    /// <summary>
    /// The counter. Read and written by both processes, only while holding the lock: the lock's acquire (taking it)
    /// and release (giving it back) order these plain accesses, which is the very thing the workload verifies (an
    /// unprotected update would be lost and the counter would come out short). The host zeroes it before the round,
    /// while the peer is idle.
    /// </summary>
    [FieldOffset(0)]
    internal ulong Counter;

    /// <summary>
    /// The Stopwatch timestamp of the increment that made <see cref="Counter"/> reach the round's count: written once,
    /// with that increment, under the lock, by whichever process made it; read by the host after its own loop ended
    /// (it saw the final count under the lock, so the write is visible). Zeroed with the counter.
    /// </summary>
    [FieldOffset(8)]
    internal long End;

    /// <summary>
    /// The start line, peer to host: the round (its first sequence number) the peer has arrived at. Written by the peer
    /// with <see cref="Volatile.Write(ref ulong, ulong)"/>, read by the host with <see cref="Volatile.Read(ref ulong)"/>
    /// until it equals the round; an aligned 8-byte word, never torn. A stale value (an older round) is simply not equal.
    /// </summary>
    [FieldOffset(128)]
    internal ulong Arrived;

    /// <summary>
    /// The start line, host to peer: the round the host has started its clock for. Written by the host with a release
    /// store after its start timestamp, read by the peer with acquire loads until it equals the round.
    /// </summary>
    [FieldOffset(256)]
    internal ulong Go;
}

/// <summary>
/// lock-2p in C#, for every transport with a cross-process lock (the C program has its twin, <c>hammer()</c>): both
/// processes meet at a start line in shared memory (a busy-spin of a few microseconds: the peer is already waiting for
/// its command when the host starts spinning), then each repeats lock, read the counter, stop if it reached the
/// round's count, else increment it, unlock — until the counter reaches the count. The work is shared, not split in
/// halves: with a barging lock one side may make most of the increments, and both still compete for the lock for the
/// whole round. The round's time runs from the host's start to the final increment. Verification: the counter equals
/// the count, and the increments each side counted privately add up to it.
/// </summary>
/// <remarks>
/// No per-acquisition latency is recorded (the lock-2p rows have no percentiles, like the throughput rows): one
/// operation costs 20–100 ns with a fast lock, and a clock read per acquisition (≈27 ns here) would add a third to all of
/// it, outside the critical section, which lowers the very contention the workload measures.
/// </remarks>
internal static unsafe class LockWorkload
{
    /// <summary>How many operations pass between two looks at the abort flag (a power of two).</summary>
    private const long AbortCheckMask = 1023;

    /// <summary>Host, before the round's command goes out (the peer is idle): zero the counter and the end time.</summary>
    internal static void Reset(LockWords* words)
    {
        words->Counter = 0;
        words->End = 0;
    }

    /// <summary>
    /// The critical section: if the counter is below <paramref name="limit"/>, increments it (and stamps the time of
    /// the final increment) and returns true; otherwise returns false. Call only while holding the lock.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IncrementUnderLock(LockWords* words, ulong limit)
    {
        ulong value = words->Counter;
        if (value >= limit)
        {
            return false;
        }

        words->Counter = value + 1;
        if (value + 1 == limit)
        {
            words->End = Stopwatch.GetTimestamp();
        }

        return true;
    }

    /// <summary>
    /// Host side of a round: waits for the peer at the start line, starts the clock, lets the peer go and increments
    /// with it until the counter reaches <paramref name="count"/>.
    /// </summary>
    /// <returns>The Stopwatch ticks from the start to the final increment.</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static long HostRun<TLock>(ref TLock step, LockWords* words, int count, ulong round, string transport, out long increments)
        where TLock : struct, ILockedIncrement
    {
        SpinUntil(&words->Arrived, round);
        long start = Stopwatch.GetTimestamp();
        Volatile.Write(ref words->Go, round); // release: the counter was zeroed before the peer may touch it
        increments = Hammer(ref step, words, (ulong)count);
        long end = words->End; // this loop ended on seeing the final count under the lock: the stamp made with it is visible
        if (end < start)
        {
            throw new BenchVerificationException(string.Create(CultureInfo.InvariantCulture,
                $"{transport} lock-2p: the counter reached {count} without the time of its final increment (the lock let an update through unprotected)."));
        }

        return end - start;
    }

    /// <summary>Peer side of a round: arrives at the start line, waits for the host's go, increments with it.</summary>
    /// <returns>The peer's increments.</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static long PeerRun<TLock>(ref TLock step, LockWords* words, int count, ulong round)
        where TLock : struct, ILockedIncrement
    {
        Volatile.Write(ref words->Arrived, round);
        SpinUntil(&words->Go, round);
        return Hammer(ref step, words, (ulong)count);
    }

    /// <summary>
    /// Host side, after the peer's answer (its last unlock came before it): the counter must equal the count and the
    /// two sides' increments must add up to it; a lock that let two updates overlap loses one of them.
    /// </summary>
    /// <returns>The host's share of the increments (0..1).</returns>
    internal static double Verify(LockWords* words, int count, long hostIncrements, long peerIncrements, string transport)
    {
        ulong counter = Volatile.Read(ref words->Counter);
        if (counter != (ulong)count || hostIncrements + peerIncrements != count || hostIncrements < 0 || peerIncrements < 0)
        {
            throw new BenchVerificationException(string.Create(CultureInfo.InvariantCulture,
                $"{transport} lock-2p: the counter is {counter} after {hostIncrements} + {peerIncrements} increments; expected {count} = their sum (the lock let an update through unprotected)."));
        }

        return (double)hostIncrements / count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Hammer<TLock>(ref TLock step, LockWords* words, ulong limit)
        where TLock : struct, ILockedIncrement
    {
        long mine = 0;
        while (step.Step(words, limit))
        {
            if ((++mine & AbortCheckMask) == 0)
            {
                BenchAbort.ThrowIfAborted(); // a lock's wait ends by itself (robustness, EIDRM); this ends the loop
            }
        }

        return mine;
    }

    /// <summary>Spins until <paramref name="word"/> equals <paramref name="value"/>; throws when the run was aborted.</summary>
    private static void SpinUntil(ulong* word, ulong value)
    {
        int spins = 0;
        while (Volatile.Read(ref *word) != value)
        {
            SpinHint.Pause();
            if (++spins == BenchAbort.CheckEvery)
            {
                spins = 0;
                BenchAbort.ThrowIfAborted();
            }
        }
    }
}
