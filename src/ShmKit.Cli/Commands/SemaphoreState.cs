namespace ShmKit.Cli.Commands;

/// <summary>One semaphore of a set as <c>shmkit sem info</c> shows it.</summary>
/// <param name="Index">Its index in the set.</param>
/// <param name="Value">Its value (semval).</param>
/// <param name="LastProcessId">The process of the last semop on it (GETPID, sempid), 0 if none.</param>
/// <param name="WaitingForIncrease">Processes waiting for its value to increase (GETNCNT, semncnt).</param>
/// <param name="WaitingForZero">Processes waiting for it to become zero (GETZCNT, semzcnt).</param>
internal readonly record struct SemaphoreState(int Index, int Value, int LastProcessId, int WaitingForIncrease, int WaitingForZero);
