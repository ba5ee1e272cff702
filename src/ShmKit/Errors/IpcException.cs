namespace ShmKit;

/// <summary>
/// A System V IPC call failed. The message names the operation, the object (key or id) and what to do;
/// derived types say which failure it was. No raw -1 or errno ever reaches the caller, but
/// <see cref="NativeErrorCode"/> keeps the errno for logs.
/// </summary>
public class IpcException : IOException
{
    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public IpcException(string message)
        : base(message)
    {
        Operation = string.Empty;
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public IpcException(string message, Exception innerException)
        : base(message, innerException)
    {
        Operation = string.Empty;
    }

    /// <summary>Creates an exception that describes a failed call.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="kind">The kind of object.</param>
    /// <param name="operation">The operation, for example "shmget".</param>
    /// <param name="key">The key, when known.</param>
    /// <param name="id">The id, when known.</param>
    /// <param name="nativeErrorCode">The errno.</param>
    public IpcException(string message, IpcObjectKind kind, string operation, IpcKey? key, int? id, int nativeErrorCode)
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

    /// <summary>The operation that failed, for example "shmget" or "semop".</summary>
    public string Operation { get; }

    /// <summary>The key, when the call named one.</summary>
    public IpcKey? Key { get; }

    /// <summary>The id, when the call named one.</summary>
    public int? Id { get; }

    /// <summary>The errno the kernel reported (for logs; handle the exception type instead).</summary>
    public int NativeErrorCode { get; }
}
