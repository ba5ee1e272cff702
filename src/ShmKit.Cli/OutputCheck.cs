using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace ShmKit.Cli;

/// <summary>
/// Whether a file descriptor can take output, found out before anything irreversible happens (a message leaves its
/// queue only once its destination has passed this check). The check costs no write: it reads what the kernel shows in
/// <c>/proc/self/fdinfo/N</c> and <c>/proc/self/fd/N</c>, because a zero-byte write is no probe (.NET skips it, and
/// most files accept it anyway). It finds:
/// <list type="bullet">
/// <item>a closed descriptor (<c>&gt;&amp;-</c>): no fdinfo entry, or, since the runtime reuses the lowest free number
/// for its own files, an entry with O_CLOEXEC, which a descriptor inherited across exec can never have;</item>
/// <item>a descriptor open for reading only (<c>1&lt;/dev/null</c>);</item>
/// <item>/dev/full, where every write fails with ENOSPC (found by the path the descriptor points to).</item>
/// </list>
/// What it cannot see (a full disk, a pipe whose reader exits later) shows up when writing; the commands then say
/// exactly what was and was not done.
/// </summary>
internal static class OutputCheck
{
    /// <summary>stdout's file descriptor.</summary>
    internal const int StandardOutput = 1;

    /// <summary>stderr's file descriptor.</summary>
    internal const int StandardError = 2;

    // From <fcntl.h>, the same on x86-64 and arm64 (as /proc prints them: octal).
    private const int AccessModeMask = 3; // O_ACCMODE
    private const int ReadOnly = 0; // O_RDONLY
    private const int CloseOnExec = 0x80000; // O_CLOEXEC (02000000)

    /// <summary>
    /// Why <paramref name="fd"/> cannot be written to, as the end of a sentence ("stdout is closed"), or null when it
    /// looks writable.
    /// </summary>
    /// <param name="fd">The file descriptor.</param>
    /// <param name="name">What to call it in the message: "stdout", or the path given with --out.</param>
    /// <param name="inherited">True for stdin, stdout and stderr, which come from the parent: O_CLOEXEC means closed.</param>
    internal static string? WhyNotWritable(int fd, string name, bool inherited)
    {
        string fdText = fd.ToString(CultureInfo.InvariantCulture);
        int? flags = ReadFlags(fdText);
        if (flags is not int f || (inherited && (f & CloseOnExec) != 0))
        {
            return $"{name} is closed";
        }

        if ((f & AccessModeMask) == ReadOnly)
        {
            return $"{name} is open for reading only";
        }

        string? target = null;
        try
        {
            target = new FileInfo("/proc/self/fd/" + fdText).LinkTarget;
        }
        catch (IOException)
        {
        }

        if (target == "/dev/full")
        {
            return $"{name} is /dev/full, where every write fails (no space left on device)";
        }

        return null;
    }

    /// <summary>
    /// At start-up: if stdout or stderr was closed when shmkit started, its number now belongs to one of the runtime's
    /// own files; route Console output for it to nowhere instead of into that file.
    /// </summary>
    internal static void GuardClosedStandardStreams()
    {
        if (WhyNotWritable(StandardOutput, "stdout", inherited: true) is { } o && o.EndsWith("closed", StringComparison.Ordinal))
        {
            Console.SetOut(TextWriter.Null);
        }

        if (WhyNotWritable(StandardError, "stderr", inherited: true) is { } e && e.EndsWith("closed", StringComparison.Ordinal))
        {
            Console.SetError(TextWriter.Null);
        }
    }

    /// <summary>
    /// stdout as a stream that reports every write error (the Console's stream ignores EPIPE, which would lose a
    /// received message without a word). Dispose it with <see cref="Finish"/> so a regular file's offset moves past
    /// what was written, for whatever writes to the same descriptor next.
    /// </summary>
    internal static FileStream OpenStandardOutput()
    {
        Console.Out.Flush();
        return new FileStream(new SafeFileHandle(StandardOutput, ownsHandle: false), FileAccess.Write, bufferSize: 0);
    }

    /// <summary>Flushes <paramref name="stream"/> and moves the descriptor's offset to where the stream ended (for a seekable file).</summary>
    internal static void Finish(FileStream stream)
    {
        stream.Flush();

        // Reading SafeFileHandle sets the OS file offset to the stream's position: FileStream writes seekable files
        // with pwrite, which leaves the offset where it was.
        _ = stream.SafeFileHandle;
    }

    private static int? ReadFlags(string fdText)
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/fdinfo/" + fdText))
            {
                if (line.StartsWith("flags:", StringComparison.Ordinal))
                {
                    return Convert.ToInt32(line["flags:".Length..].Trim(), 8);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }

        return null;
    }
}
