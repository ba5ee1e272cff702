using System.Diagnostics;
using System.Globalization;

namespace ShmKit;

/// <summary>
/// The classic System V server/client pattern as one object: a shared memory segment holding the data plus a
/// semaphore set guarding it, both under the same key. The server creates both, writes its data, and marks the data
/// ready; clients open by key (even before the server has created anything), wait until it is ready, and from then
/// on either side updates records in place under the lock.
/// </summary>
/// <remarks>
/// <para><b>Kernel objects.</b> One key names two objects (System V keeps a separate key space per kind): a segment of
/// <see cref="Size"/> bytes that holds only the caller's data (no header; offset 0 is the first byte of data), and a
/// set of two semaphores: <see cref="ReadyGate"/> (0 = not ready, 1 = ready; no SEM_UNDO, so it stays open if the
/// server exits) and <see cref="LockSemaphore"/> (a lock, initially 1, always taken with SEM_UNDO so a process that
/// dies holding it releases it). A C program can join: <c>semget(key, 2, 0)</c>, <c>shmget(key, 0, 0)</c>, wait for the gate
/// with <c>{0,-1,0},{0,+1,0}</c> and lock with <c>{1,-1,SEM_UNDO}</c> / <c>{1,+1,SEM_UNDO}</c>.</para>
/// <para><b>Order.</b> The server creates the segment, attaches it, then creates and initializes the semaphore set
/// (gate closed), so a set that exists means the segment exists. A client retries opening until the set appears
/// (or its timeout passes), then opens the segment. <see cref="WaitReady"/> blocks until the gate is open without
/// closing it (one atomic semop: -1 then +1), so any number of clients pass. A client therefore never sees
/// half-written initial data: the server's writes happen before its <see cref="MarkReady"/>, and semop is a system
/// call that orders memory (the kernel takes the set's lock), so everything written before the gate opened is
/// visible after <see cref="WaitReady"/> returns.</para>
/// <para><b>Updates.</b> After the handshake, take <see cref="Lock"/> around every read or write of data another
/// process may change: <c>using (region.Lock(TimeSpan.FromSeconds(1))) { region.Attachment.Write(offset, record); }</c>,
/// or, for an update in place, a lease inside the lock: <c>using var lease = region.Attachment.Acquire();</c> then
/// <c>ref var r = ref lease.GetRef&lt;Record&gt;(offset);</c>.
/// The lock orders memory the same way. If a process is killed inside the lock, SEM_UNDO releases the lock but the
/// record it was writing may be half-written; keep a version or checksum in the record if that matters.</para>
/// <para><b>Layout rules.</b> The segment is mapped at a different address in every process: store offsets, never
/// pointers or references. Use fixed-size unmanaged structs (explicit or sequential layout, no references, no
/// <c>bool</c>/<c>char</c> whose size the C side may disagree on), keep fields naturally aligned (a 64-bit value at an
/// offset that is a multiple of 8) so other processes read them whole, and put a version number or record count at a
/// fixed offset if the format may change.</para>
/// <para><b>Ownership.</b> The creator (<see cref="Create"/>, <see cref="IsOwner"/> true) owns both kernel objects: its
/// <see cref="Dispose"/> detaches and removes them. A client's Dispose only detaches. After removal, clients keep their
/// mapping (the segment's memory lives until the last detach), but the semaphores are gone at once: their
/// <see cref="Lock"/> and <see cref="WaitReady"/> throw <see cref="IpcObjectRemovedException"/>, which tells them the
/// server has shut down.</para>
/// </remarks>
public sealed class SharedMemoryRendezvous : IDisposable
{
    /// <summary>The default permission of both objects: owner read and write (0600).</summary>
    public const UnixFileMode DefaultMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Index of the ready gate in <see cref="Semaphores"/>: 0 until <see cref="MarkReady"/>, then 1.</summary>
    public const int ReadyGate = 0;

    /// <summary>Index of the lock in <see cref="Semaphores"/>: 1 when free, 0 when held.</summary>
    public const int LockSemaphore = 1;

    private static readonly TimeSpan s_retryDelay = TimeSpan.FromMilliseconds(10);

    private SharedMemoryRendezvous(SharedMemorySegment segment, SemaphoreSet semaphores, SharedMemoryAttachment attachment, bool isOwner)
    {
        Segment = segment;
        Semaphores = semaphores;
        Attachment = attachment;
        IsOwner = isOwner;
    }

    /// <summary>The key of both objects.</summary>
    public IpcKey Key => Segment.Key;

    /// <summary>The segment that holds the data.</summary>
    public SharedMemorySegment Segment { get; }

    /// <summary>The two semaphores: <see cref="ReadyGate"/> and <see cref="LockSemaphore"/>.</summary>
    public SemaphoreSet Semaphores { get; }

    /// <summary>Read-write access to the data (the whole segment; offset 0 is the first byte of data).</summary>
    public SharedMemoryAttachment Attachment { get; }

    /// <summary>The size of the data in bytes.</summary>
    public long Size => Attachment.Length;

    /// <summary>True for the server (the creator): Dispose removes both objects.</summary>
    public bool IsOwner { get; }

    /// <summary>True once the server has called <see cref="MarkReady"/>.</summary>
    public bool IsReady => Semaphores.GetValue(ReadyGate) > 0;

    /// <summary>
    /// Server side: creates the segment (zero-filled) and the semaphore set (gate closed, lock free) under
    /// <paramref name="key"/>, both exclusively, and attaches the segment.
    /// </summary>
    /// <param name="key">The key clients will open (not <see cref="IpcKey.Private"/>).</param>
    /// <param name="size">The size of the data in bytes.</param>
    /// <param name="mode">Permission bits of both objects; default 0600 (clients must run as the same user).</param>
    /// <returns>The server's side; write the data, then call <see cref="MarkReady"/>.</returns>
    /// <exception cref="IpcObjectExistsException">A segment or semaphore set with this key exists (a stale one can be removed with <see cref="Remove(IpcKey)"/>).</exception>
    /// <remarks>
    /// If anything fails after the segment is created, the segment is detached and removed again and the original
    /// exception is thrown; should that cleanup fail too, its exceptions are attached to the original one's
    /// <see cref="Exception.Data"/> under "ShmKit.CleanupFailures" (an <see cref="AggregateException"/>).
    /// </remarks>
    public static SharedMemoryRendezvous Create(IpcKey key, long size, UnixFileMode mode = DefaultMode)
    {
        CheckNotPrivate(key);
        var segment = SharedMemorySegment.CreateNew(key, size, mode);
        SharedMemoryAttachment? attachment = null;
        try
        {
            attachment = segment.Attach();
            var semaphores = SemaphoreSet.CreateNew(key, [0, 1], mode);
            return new SharedMemoryRendezvous(segment, semaphores, attachment, isOwner: true);
        }
        catch (Exception e)
        {
            // Undo in reverse order; a cleanup failure is recorded on e (Data[FailureCleanup.DataKey]) and never
            // replaces it: the caller needs to know why Create failed, not only that the cleanup did too.
            FailureCleanup.Run(e, () => attachment?.Dispose(), segment.Remove);
            throw;
        }
    }

    /// <summary>
    /// Client side: opens the rendezvous with this key, retrying while the server has not created it yet. Does not
    /// wait for the data to be ready: call <see cref="WaitReady"/> next.
    /// </summary>
    /// <param name="key">The server's key.</param>
    /// <param name="timeout">How long to keep retrying.</param>
    /// <param name="cancellationToken">Cancels the retrying.</param>
    /// <returns>The client's side.</returns>
    /// <exception cref="TimeoutException">Nothing with this key appeared within <paramref name="timeout"/>.</exception>
    /// <exception cref="IpcAccessDeniedException">The objects exist but their mode does not admit this user.</exception>
    public static SharedMemoryRendezvous Open(IpcKey key, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        CheckNotPrivate(key);
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TimeSpan left = timeout - Stopwatch.GetElapsedTime(start);
            try
            {
                // The set is created after the segment: once it opens, the segment is there.
                var semaphores = SemaphoreSet.Open(key, left > TimeSpan.Zero ? left : TimeSpan.Zero);
                if (semaphores.Count < 2)
                {
                    throw new IpcException(string.Create(CultureInfo.InvariantCulture,
                        $"The semaphore set with key {key} (id {semaphores.Id}) has {semaphores.Count} semaphore(s); a rendezvous needs 2 (ready gate, lock). Another program uses this key: pick another."));
                }

                var segment = SharedMemorySegment.Open(key);
                return new SharedMemoryRendezvous(segment, semaphores, segment.Attach(), isOwner: false);
            }
            catch (Exception e) when (e is IpcObjectNotFoundException or IpcObjectRemovedException)
            {
                // Not there yet (or being replaced): retry until the timeout.
                if (Stopwatch.GetElapsedTime(start) >= timeout)
                {
                    throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                        $"No rendezvous with key {key} appeared within {timeout.TotalMilliseconds:0} ms: no segment and semaphore set with this key exist. Is the server running with the same key?"), e);
                }

                if (cancellationToken.WaitHandle.WaitOne(s_retryDelay))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }
        }
    }

    /// <summary>Server side: opens the gate, so every current and future <see cref="WaitReady"/> returns. Idempotent.</summary>
    /// <remarks>Call it after all initial data is written; writes before it are visible to clients after their WaitReady.</remarks>
    public void MarkReady() => Semaphores.SetValue(ReadyGate, 1);

    /// <summary>Client side: waits until the server has called <see cref="MarkReady"/> (returns at once if it has).</summary>
    /// <param name="timeout">How long to wait; null waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="TimeoutException">The server did not mark the data ready in time.</exception>
    /// <exception cref="IpcObjectRemovedException">The server removed the rendezvous.</exception>
    public void WaitReady(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        // -1 then +1 in one atomic semop: waits until the gate is at least 1 and leaves it as it was.
        ReadOnlySpan<SemaphoreOperation> pass =
        [
            new SemaphoreOperation(ReadyGate, -1, Undo: false),
            new SemaphoreOperation(ReadyGate, 1, Undo: false),
        ];
        try
        {
            Semaphores.Apply(pass, timeout, cancellationToken);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                $"The rendezvous with key {Key} was not marked ready within {timeout.GetValueOrDefault().TotalMilliseconds:0} ms: the server has not finished writing its data, or has died. Wait longer, or restart the server."), e);
        }
    }

    /// <summary>Takes the lock (with SEM_UNDO); dispose the result to release it.</summary>
    /// <param name="timeout">How long to wait; null waits forever.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The held lock, for <c>using</c>.</returns>
    /// <exception cref="TimeoutException">Another process held the lock for the whole timeout.</exception>
    /// <exception cref="IpcObjectRemovedException">The server removed the rendezvous.</exception>
    public SemaphoreLockScope Lock(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        Semaphores.Lock(LockSemaphore, timeout, undo: true, cancellationToken);

    /// <summary>
    /// Removes both kernel objects now (the semaphore set first, which wakes every waiter with
    /// <see cref="IpcObjectRemovedException"/>; then the segment, which lingers until the last process detaches).
    /// Normally the server's <see cref="Dispose"/> does this. Objects already gone are ignored.
    /// </summary>
    public void Remove()
    {
        RemoveQuietly(() => Semaphores.Remove());
        RemoveQuietly(() => Segment.Remove());
    }

    /// <summary>
    /// Removes whatever segment and semaphore set have <paramref name="key"/>: for a server that starts after a
    /// crashed predecessor left its objects behind.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <returns>True when something was removed.</returns>
    public static bool Remove(IpcKey key)
    {
        CheckNotPrivate(key);
        bool removed = false;
        if (SemaphoreSet.FindId(key) is int id)
        {
            RemoveQuietly(() => SemaphoreSet.Remove(id));
            removed = true;
        }

        try
        {
            SharedMemorySegment.Open(key).Remove();
            removed = true;
        }
        catch (IpcObjectNotFoundException)
        {
        }

        return removed;
    }

    /// <summary>Detaches; the server (<see cref="IsOwner"/>) also removes both objects.</summary>
    public void Dispose()
    {
        if (Attachment.IsDisposed)
        {
            return;
        }

        Attachment.Dispose();
        if (IsOwner)
        {
            Remove();
        }
    }

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"rendezvous key {Key}: segment id {Segment.Id} ({Size} bytes), semaphore set id {Semaphores.Id}{(IsOwner ? " (owner)" : string.Empty)}");

    private static void RemoveQuietly(Action remove)
    {
        try
        {
            remove();
        }
        catch (Exception e) when (e is IpcObjectNotFoundException or IpcObjectRemovedException)
        {
        }
    }

    private static void CheckNotPrivate(IpcKey key)
    {
        if (key.IsPrivate)
        {
            throw new ArgumentException("A rendezvous is found by its key: IpcKey.Private cannot be opened by another process. Pick a key (for example IpcKey.FromPath).", nameof(key));
        }
    }
}
