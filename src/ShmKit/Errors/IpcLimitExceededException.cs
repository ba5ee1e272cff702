namespace ShmKit;

/// <summary>A system-wide limit was reached (ENOSPC, ENOMEM): too many identifiers, or not enough memory for the size asked. The message quotes the limit.</summary>
public sealed class IpcLimitExceededException : IpcException
{
    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What failed and what to do.</param>
    public IpcLimitExceededException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    /// <param name="message">What failed and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public IpcLimitExceededException(string message, Exception innerException)
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
    public IpcLimitExceededException(string message, IpcObjectKind kind, string operation, IpcKey? key, int? id, int nativeErrorCode)
        : base(message, kind, operation, key, id, nativeErrorCode)
    {
    }
}
