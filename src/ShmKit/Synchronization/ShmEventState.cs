namespace ShmKit;

/// <summary>A snapshot of a <see cref="ShmEvent"/> (<see cref="ShmEvent.GetState"/>), for diagnostics such as <c>shmkit inspect</c>.</summary>
/// <param name="IsSet">Whether it is set.</param>
/// <param name="ResetMode">Auto or manual reset.</param>
/// <param name="SleepingWaiters">Threads registered as sleeping on it, in all processes (a killed sleeper stays counted).</param>
public readonly record struct ShmEventState(bool IsSet, EventResetMode ResetMode, int SleepingWaiters);
