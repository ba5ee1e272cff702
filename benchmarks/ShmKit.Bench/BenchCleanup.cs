namespace ShmKit.Bench;

/// <summary>
/// Everything a run created, to remove in reverse order exactly once: at the end, on an error, on Ctrl-C/SIGTERM
/// (from the signal handler's thread) and when the peer dies. Each action is guarded: one failure does not stop the rest.
/// </summary>
internal sealed class BenchCleanup
{
    private readonly object _gate = new();
    private readonly List<(string What, Action Action)> _actions = [];
    private bool _done;

    /// <summary>Registers an action; if cleanup already ran, runs it now.</summary>
    internal void Add(string what, Action action)
    {
        lock (_gate)
        {
            if (!_done)
            {
                _actions.Add((what, action));
                return;
            }
        }

        Run(what, action);
    }

    /// <summary>Runs every registered action once, newest first.</summary>
    internal void RunAll()
    {
        (string What, Action Action)[] actions;
        lock (_gate)
        {
            if (_done)
            {
                return;
            }

            _done = true;
            actions = [.. _actions];
            _actions.Clear();
        }

        for (int i = actions.Length - 1; i >= 0; i--)
        {
            Run(actions[i].What, actions[i].Action);
        }
    }

    private static void Run(string what, Action action)
    {
        try
        {
            action();
        }
#pragma warning disable CA1031 // Cleanup must go on with the next object whatever one removal throws.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Console.Error.WriteLine($"shmkit-bench: cleanup of {what} failed: {ex.Message}");
        }
    }
}
