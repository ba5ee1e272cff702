namespace ShmKit;

/// <summary>The object was removed while it was in use (EIDRM), or its id is stale.</summary>
public sealed class IpcObjectRemovedException : IpcException
{
    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public IpcObjectRemovedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public IpcObjectRemovedException(string message, Exception innerException)
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
    public IpcObjectRemovedException(string message, IpcObjectKind kind, string operation, IpcKey? key, int? id, int nativeErrorCode)
        : base(message, kind, operation, key, id, nativeErrorCode)
    {
    }
}
