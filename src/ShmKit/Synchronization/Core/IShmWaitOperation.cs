namespace ShmKit;

/// <summary>
/// One blocking operation of a primitive (acquire a lock, consume an event, take a semaphore unit), as the waiting
/// core (<see cref="ShmWaitCore"/>) drives it: try, spin, watch an owner, register as a sleeper, sleep on a futex word,
/// unregister, try again. Implemented by structs (the core is generic over them, so nothing is boxed) that hold the
/// primitive and the operation's own state. Every pointer an operation uses must stay mapped for the whole wait: the
/// primitive holds a reference on the mapping for its duration.
/// </summary>
/// <remarks>
/// <para>The core calls, per round: <see cref="TryComplete"/> (also after every spin step), then, before it sleeps,
/// <see cref="GetWatchTarget"/> (once per owner), <see cref="BeginSleep"/> and — after the sleep, always —
/// <see cref="EndSleep"/>. <see cref="OnOwnerGone"/> runs when the watched owner died (or its slot was reclaimed);
/// <see cref="Leave"/> runs once when the wait ends without completing (timeout, cancellation, an exception).</para>
/// </remarks>
internal unsafe interface IShmWaitOperation
{
    /// <summary>Attempts the operation on the current state; true when it completed. May throw for a terminal state.</summary>
    public bool TryComplete();

    /// <summary>
    /// False when spinning is pointless for the state <see cref="TryComplete"/> saw last (another waiter is already
    /// parked in the kernel: WebKit's rule; spinning would only take its turn).
    /// </summary>
    public bool SpinIsUseful { get; }

    /// <summary>The process whose death would end the wait (a lock's owner), for the state seen last.</summary>
    public WatchTarget GetWatchTarget();

    /// <summary>
    /// Registers as a sleeper for the state seen last and returns the word and the value to sleep on; false when the
    /// state changed meanwhile (nothing registered; the core tries again at once).
    /// </summary>
    public bool BeginSleep(out int* word, out int expected);

    /// <summary>Unregisters the sleeper; called after every sleep that <see cref="BeginSleep"/> started.</summary>
    public void EndSleep();

    /// <summary>
    /// The owner named by the last <see cref="GetWatchTarget"/> died (the sleep was interrupted, or its slot is gone):
    /// confirm it and recover (a lock marks itself abandoned). Returns false when the owner turned out alive or cannot
    /// be judged; the core then stops watching that owner (so a watch that keeps firing cannot make it spin).
    /// </summary>
    public bool OnOwnerGone(in WatchTarget target);

    /// <summary>The wait ends without completing: hand on a wake this waiter may have consumed, clear its traces.</summary>
    public void Leave();
}

/// <summary>What kind of owner a wait depends on.</summary>
internal enum WatchTargetKind
{
    /// <summary>No owner to watch (no owner, this process, or an event or semaphore).</summary>
    None,

    /// <summary>A live-looking owner: watch <see cref="WatchTarget.Process"/> (and its token) while sleeping.</summary>
    Process,

    /// <summary>The owner is known dead without watching (its participant slot moved on): recover at once.</summary>
    Dead,
}

/// <summary>The owner a wait depends on, from <see cref="IShmWaitOperation.GetWatchTarget"/>.</summary>
/// <param name="Kind">None, Process or Dead.</param>
/// <param name="Key">Identifies the owner for the operation (a lock's owner id); 0 for None.</param>
/// <param name="Process">The owner's identity (Kind Process).</param>
/// <param name="Token">The owner's SEM_UNDO liveness token (needed when it is in another pid namespace).</param>
internal readonly record struct WatchTarget(WatchTargetKind Kind, int Key, ProcessIdentity Process, LivenessToken? Token)
{
    internal static WatchTarget None => default;
}
