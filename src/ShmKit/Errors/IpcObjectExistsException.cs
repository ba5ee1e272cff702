namespace ShmKit;

/// <summary>An object with that key already exists and exclusive creation was asked for (EEXIST).</summary>
public sealed class IpcObjectExistsException : IpcException
{
    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public IpcObjectExistsException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public IpcObjectExistsException(string message, Exception innerException)
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
    public IpcObjectExistsException(string message, IpcObjectKind kind, string operation, IpcKey? key, int? id, int nativeErrorCode)
        : base(message, kind, operation, key, id, nativeErrorCode)
    {
    }
}
