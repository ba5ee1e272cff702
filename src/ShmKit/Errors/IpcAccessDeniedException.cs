namespace ShmKit;

/// <summary>
/// The caller lacks permission for an IPC object (EACCES, EPERM): its mode does not grant the access asked,
/// or only the owner, the creator or root may change or remove it. It is an <see cref="UnauthorizedAccessException"/>,
/// as file permission errors are in .NET.
/// </summary>
public sealed class IpcAccessDeniedException : UnauthorizedAccessException
{
    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public IpcAccessDeniedException(string message)
        : base(message)
    {
        Operation = string.Empty;
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public IpcAccessDeniedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Operation = string.Empty;
    }

    /// <summary>Creates an exception that describes a failed call.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="kind">The kind of object.</param>
    /// <param name="operation">The operation, for example "shmat".</param>
    /// <param name="key">The key, when known.</param>
    /// <param name="id">The id, when known.</param>
    /// <param name="nativeErrorCode">The errno (EACCES or EPERM).</param>
    public IpcAccessDeniedException(string message, IpcObjectKind kind, string operation, IpcKey? key, int? id, int nativeErrorCode)
        : base(message)
    {
        Kind = kind;
        Operation = operation;
        Key = key;
        Id = id;
        NativeErrorCode = nativeErrorCode;
    }

    /// <summary>The kind of object the call was about.</summary>
    public IpcObjectKind Kind { get; }

    /// <summary>The operation that failed.</summary>
    public string Operation { get; }

    /// <summary>The key, when the call named one.</summary>
    public IpcKey? Key { get; }

    /// <summary>The id, when the call named one.</summary>
    public int? Id { get; }

    /// <summary>The errno the kernel reported.</summary>
    public int NativeErrorCode { get; }
}
