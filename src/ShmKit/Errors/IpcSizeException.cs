namespace ShmKit;

/// <summary>A size does not fit (EINVAL on shmget/semget/msgsnd): larger than the existing object, or outside the system's minimum and maximum. The message says which.</summary>
public sealed class IpcSizeException : IpcException
{
    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public IpcSizeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public IpcSizeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception that describes a failed call.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="kind">The kind of object.</param>
    /// <param name="operation">The operation, for example "shmget".</param>
    /// <param name="key">The key, when known.</param>
    /// <param name="id">The id, when known.</param>
    /// <param name="nativeErrorCode">The errno.</param>
    public IpcSizeException(string message, IpcObjectKind kind, string operation, IpcKey? key, int? id, int nativeErrorCode)
        : base(message, kind, operation, key, id, nativeErrorCode)
    {
    }
}
