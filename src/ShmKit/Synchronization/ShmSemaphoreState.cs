namespace ShmKit;

/// <summary>A snapshot of a <see cref="ShmSemaphore"/> (<see cref="ShmSemaphore.GetState"/>), for diagnostics such as <c>shmkit inspect</c>.</summary>
/// <param name="CurrentCount">Units available.</param>
/// <param name="MaximumCount">The largest count.</param>
/// <param name="SleepingWaiters">Threads registered as sleeping on it, in all processes (a killed sleeper stays counted).</param>
public readonly record struct ShmSemaphoreState(int CurrentCount, int MaximumCount, int SleepingWaiters);
