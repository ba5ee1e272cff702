namespace ShmKit;

/// <summary>
/// The library's own threads (the liveness monitor and its token watchers, the async futex waiters): background
/// threads with a name, counted while they live so that tests and diagnostics can see that none is left over.
/// </summary>
internal static class BackgroundThreads
{
    /// <summary>
    /// Starts <paramref name="body"/>(<paramref name="state"/>) on a new background thread called <paramref name="name"/>,
    /// without flowing the caller's ExecutionContext, and adds one to <paramref name="count"/> (Interlocked); the body
    /// subtracts it when it ends. A thread that fails to start is not counted.
    /// </summary>
    internal static void Start(ParameterizedThreadStart body, object? state, string name, ref int count)
    {
        var thread = new Thread(body) { IsBackground = true, Name = name };
        Interlocked.Increment(ref count);
        try
        {
            thread.UnsafeStart(state);
        }
        catch
        {
            Interlocked.Decrement(ref count);
            throw;
        }
    }
}
