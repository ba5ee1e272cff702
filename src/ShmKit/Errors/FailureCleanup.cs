namespace ShmKit;

/// <summary>
/// Undoing what a failed call made, without losing why it failed: every step runs, and a step that throws is
/// recorded on the original exception instead of replacing it.
/// </summary>
internal static class FailureCleanup
{
    /// <summary>The key of <see cref="Exception.Data"/> under which the cleanup failures are recorded.</summary>
    internal const string DataKey = "ShmKit.CleanupFailures";

    /// <summary>
    /// Runs every step in order. When a step throws, the failure is added to <paramref name="original"/>'s
    /// <see cref="Exception.Data"/> under <see cref="DataKey"/> (an <see cref="AggregateException"/> of all of them),
    /// and the remaining steps still run. The caller rethrows <paramref name="original"/> (<c>throw;</c>).
    /// </summary>
    /// <param name="original">The exception that made the cleanup necessary.</param>
    /// <param name="steps">What to undo, in order.</param>
    internal static void Run(Exception original, params ReadOnlySpan<Action> steps)
    {
        List<Exception>? failures = null;
        foreach (Action step in steps)
        {
            try
            {
                step();
            }
            catch (Exception e)
            {
                (failures ??= []).Add(e);
            }
        }

        if (failures is not null)
        {
            if (original.Data[DataKey] is AggregateException earlier)
            {
                failures.InsertRange(0, earlier.InnerExceptions);
            }

            original.Data[DataKey] = new AggregateException("Cleaning up after the failure failed too.", failures);
        }
    }
}
