namespace ShmKit;

/// <summary>The three families of System V IPC objects.</summary>
public enum IpcObjectKind
{
    /// <summary>A shared memory segment (shmget).</summary>
    SharedMemory,

    /// <summary>A semaphore set (semget).</summary>
    SemaphoreSet,

    /// <summary>A message queue (msgget).</summary>
    MessageQueue,
}
