namespace ShmKit;

/// <summary>The names and command numbers that tell one System V IPC family from another (see <see cref="IIpcKind{TStatus}"/>).</summary>
/// <param name="Kind">The family.</param>
/// <param name="GetName">The get call's name, for messages: "shmget", "semget", "msgget".</param>
/// <param name="ControlName">The control call's name, for messages: "shmctl", "semctl", "msgctl".</param>
/// <param name="StatAtIndexCommand">*_STAT: IPC_STAT by table index rather than id (checks read permission).</param>
/// <param name="StatAnyCommand">*_STAT_ANY (Linux 4.17+): *_STAT without the read permission check, as /proc/sysvipc reads.</param>
/// <param name="UsageCommand">*_INFO: the usage struct; its result is the highest table index in use.</param>
/// <param name="UsageCommandName">The name of <paramref name="UsageCommand"/>, for messages.</param>
internal sealed record IpcKindDescription(
    IpcObjectKind Kind,
    string GetName,
    string ControlName,
    int StatAtIndexCommand,
    int StatAnyCommand,
    int UsageCommand,
    string UsageCommandName);
