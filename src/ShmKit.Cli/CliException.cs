namespace ShmKit.Cli;

/// <summary>
/// A failure the CLI itself detects and words (a payload larger than its destination, an output that cannot be
/// written, a live demo server), with the exit code of its kind from <see cref="CliErrors"/>. Its message is shown as
/// it is: it already speaks in options and shmkit commands.
/// </summary>
internal sealed class CliException : Exception
{
    internal CliException(string message, int exitCode, Exception? innerException = null)
        : base(message, innerException)
    {
        ExitCode = exitCode;
    }

    /// <summary>The exit code: one of the <see cref="CliErrors"/> constants.</summary>
    internal int ExitCode { get; }
}
