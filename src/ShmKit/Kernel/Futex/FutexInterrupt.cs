using System.Runtime.InteropServices;
using ShmKit.Interop;

namespace ShmKit;

/// <summary>
/// A thread's private interrupt word: the second entry of a cancellable <see cref="Futex.Wait(int*, int, long, CancellationToken)"/>
/// (futex_waitv on {shared word == expected, this word == 0}). A cancellation callback or the liveness monitor sets a
/// bit in it and wakes only it, so the waiter returns at once while the shared word and its co-waiters stay untouched,
/// and a notification that arrives before the waiter enters the kernel is not lost (the kernel compares the word).
/// </summary>
/// <remarks>
/// <para>One per thread (<see cref="Current"/>, created on the thread's first cancellable wait, freed when the thread
/// and every reference are gone); no allocation per wait. The word lives in process memory (NativeMemory, a cache line
/// of its own), so it is waited on and woken with FUTEX_PRIVATE_FLAG — the only private futex in ShmKit.</para>
/// <para>Bits (who writes / who reads): <see cref="CancelledBit"/> — set by the token's callback (any thread,
/// Interlocked.Or), cleared by the owning thread at the start of each cancellable wait, after which its registration
/// is disposed before the wait returns. <see cref="SignalledBit"/> — set by <see cref="Signal"/> (the liveness monitor's
/// thread) only while the interrupt is armed; cleared when the first arm and the last disarm happen. The owning thread
/// reads the word with Volatile.Read before each futex_waitv and after each return; the kernel's compare inside
/// futex_waitv is the full barrier that closes the check-then-sleep window.</para>
/// </remarks>
internal sealed unsafe class FutexInterrupt
{
    /// <summary>The token of the current wait was cancelled.</summary>
    internal const int CancelledBit = 1;

    /// <summary>A watched process died (see <c>LivenessMonitor.Watch</c>).</summary>
    internal const int SignalledBit = 2;

    [ThreadStatic]
    private static FutexInterrupt? t_current;

    private readonly int* _word;

    // Number of live watches that may signal this interrupt. Written by Arm/Disarm (any thread, Interlocked); read by
    // the owning thread to decide whether an uncancellable wait must still use futex_waitv.
    private int _armed;

    private FutexInterrupt()
    {
        _word = (int*)NativeMemory.AlignedAlloc(64, 64);
        NativeMemory.Clear(_word, 64);
    }

    ~FutexInterrupt() => NativeMemory.AlignedFree(_word);

    /// <summary>The calling thread's interrupt (created on first use).</summary>
    internal static FutexInterrupt Current => t_current ??= new FutexInterrupt();

    /// <summary>The calling thread's interrupt if something may signal it, else null (no allocation).</summary>
    internal static FutexInterrupt? CurrentIfArmed => t_current is { IsArmed: true } current ? current : null;

    /// <summary>The private word (process memory).</summary>
    internal int* Word => _word;

    /// <summary>True while at least one watch may signal this interrupt.</summary>
    internal bool IsArmed => Volatile.Read(ref _armed) > 0;

    /// <summary>True when a watched process died since the interrupt was armed.</summary>
    internal bool IsSignalled => (Volatile.Read(ref *_word) & SignalledBit) != 0;

    /// <summary>The bits now set.</summary>
    internal int Bits => Volatile.Read(ref *_word);

    /// <summary>A watch starts: the first arm clears a stale signal.</summary>
    internal void Arm()
    {
        if (Interlocked.Increment(ref _armed) == 1)
        {
            Interlocked.And(ref *_word, ~SignalledBit);
        }
    }

    /// <summary>A watch ends: the last disarm clears the signal.</summary>
    internal void Disarm()
    {
        if (Interlocked.Decrement(ref _armed) == 0)
        {
            Interlocked.And(ref *_word, ~SignalledBit);
        }
    }

    /// <summary>Sets <see cref="SignalledBit"/> and wakes the owning thread if it waits (any thread).</summary>
    internal void Signal() => SetAndWake(SignalledBit);

    /// <summary>Sets <see cref="CancelledBit"/> and wakes the owning thread if it waits (the token's callback).</summary>
    internal void SignalCancelled() => SetAndWake(CancelledBit);

    /// <summary>The owning thread, before a cancellable wait registers its callback.</summary>
    internal void ClearCancelled() => Interlocked.And(ref *_word, ~CancelledBit);

    private void SetAndWake(int bit)
    {
        Interlocked.Or(ref *_word, bit);
        FutexCalls.futex(_word, FutexCalls.FUTEX_WAKE | FutexCalls.FUTEX_PRIVATE_FLAG, 1, null, null, 0);
    }
}
