using System.Text;

namespace ShmKit.Cli;

/// <summary>
/// An output opened and checked by <see cref="PayloadOutput.Open"/>: stdout in one of the formats, or a file. Write
/// the bytes with <see cref="Write"/>, then <see cref="Commit"/>; disposing an uncommitted sink deletes a file it
/// created, so a failed command leaves no empty file behind (an existing file is only changed by a write).
/// </summary>
internal sealed class PayloadSink : IDisposable
{
    private const int HexChunk = 1 << 16;
    private static ReadOnlySpan<byte> HexDigits => "0123456789abcdef"u8;

    private readonly FileStream _stream;
    private readonly Format _format;
    private readonly bool _created;
    private long _written;
    private bool _committed;

    private PayloadSink(FileStream stream, Format format, string? path, bool created)
    {
        _stream = stream;
        _format = format;
        FilePath = path;
        _created = created;
    }

    /// <summary>How the bytes are written.</summary>
    internal enum Format
    {
        /// <summary>Exactly the bytes.</summary>
        Raw,

        /// <summary>Lowercase hex, then a newline.</summary>
        Hex,

        /// <summary>The bytes, then a newline.</summary>
        Text,

        /// <summary>The bytes up to the first NUL, then a newline.</summary>
        CString,
    }

    /// <summary>The full path of the file written (<c>--out</c>), or null for stdout.</summary>
    internal string? FilePath { get; }

    /// <summary>What the output is called in messages: the file's path, or "stdout".</summary>
    internal string Name => FilePath ?? "stdout";

    /// <summary>Opens <paramref name="path"/> for <c>--out</c>: see <see cref="PayloadOutput.Open"/>.</summary>
    internal static PayloadSink OpenFile(string path, long maxBytes, string nothingDone)
    {
        string Refuse(string why) => $"--out {path}: {why}, {nothingDone}.";
        if (Directory.Exists(path))
        {
            throw new CliException(Refuse("it is a directory"), CliErrors.Failure);
        }

        string directory = Path.GetDirectoryName(path) ?? "/";
        if (!Directory.Exists(directory))
        {
            throw new CliException(Refuse($"the directory {directory} does not exist"), CliErrors.NotFound);
        }

        FileStream stream;
        bool created = false;
        try
        {
            try
            {
                stream = new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    PreallocationSize = Math.Max(0, maxBytes),
                });
                created = true;
            }
            catch (IOException) when (File.Exists(path))
            {
                // Exists (or appeared meanwhile): write it from the start without truncating it first, so a command
                // that fails before writing leaves it as it was.
                stream = new FileStream(path, FileMode.Open, FileAccess.Write);
            }
        }
        catch (UnauthorizedAccessException e)
        {
            throw new CliException(Refuse("permission denied (" + e.Message + ")"), CliErrors.Denied, e);
        }
        catch (IOException e)
        {
            throw new CliException(Refuse(e.Message.TrimEnd('.')), CliErrors.Failure, e);
        }

        if (OutputCheck.WhyNotWritable((int)stream.SafeFileHandle.DangerousGetHandle(), path, inherited: false) is { } why)
        {
            stream.Dispose();
            throw new CliException($"--out {why}, {nothingDone}.", CliErrors.Failure);
        }

        return new PayloadSink(stream, Format.Raw, Path.GetFullPath(path), created);
    }

    /// <summary>stdout in <paramref name="format"/>; the caller has checked it (<see cref="OutputCheck.WhyNotWritable"/>).</summary>
    internal static PayloadSink OpenStandardOutput(Format format) =>
        new(OutputCheck.OpenStandardOutput(), format, path: null, created: false);

    /// <summary>
    /// Writes <paramref name="prefix"/> (stdout only) and the bytes <paramref name="source"/> hands out, in the format.
    /// </summary>
    /// <exception cref="IOException">A write failed.</exception>
    internal void Write(string? prefix, PayloadOutput.ChunkSource source)
    {
        if (prefix is not null && FilePath is null)
        {
            _stream.Write(Encoding.UTF8.GetBytes(prefix));
        }

        switch (_format)
        {
            case Format.Hex:
                byte[] hex = new byte[2 * HexChunk];
                source(chunk =>
                {
                    for (int start = 0; start < chunk.Length; start += HexChunk)
                    {
                        var part = chunk.Slice(start, Math.Min(HexChunk, chunk.Length - start));
                        for (int i = 0; i < part.Length; i++)
                        {
                            hex[2 * i] = HexDigits[part[i] >> 4];
                            hex[(2 * i) + 1] = HexDigits[part[i] & 0xF];
                        }

                        _stream.Write(hex, 0, 2 * part.Length);
                    }
                });
                _stream.WriteByte((byte)'\n');
                break;
            case Format.CString:
                bool ended = false;
                source(chunk =>
                {
                    if (!ended)
                    {
                        int nul = chunk.IndexOf((byte)0);
                        _stream.Write(nul < 0 ? chunk : chunk[..nul]);
                        ended = nul >= 0;
                    }
                });
                _stream.WriteByte((byte)'\n');
                break;
            case Format.Text:
                source(chunk => _stream.Write(chunk));
                _stream.WriteByte((byte)'\n');
                break;
            default:
                source(chunk =>
                {
                    _stream.Write(chunk);
                    _written += chunk.Length;
                });
                break;
        }
    }

    /// <summary>
    /// Finishes: flushes, cuts an existing file to what was written, and leaves stdout's offset after it.
    /// </summary>
    /// <exception cref="IOException">The flush failed.</exception>
    internal void Commit()
    {
        if (FilePath is not null && _stream.CanSeek)
        {
            _stream.SetLength(_written);
        }

        OutputCheck.Finish(_stream);
        _committed = true;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        try
        {
            _stream.Dispose();
        }
        catch (IOException)
        {
            // A failed flush was reported by Commit, or the command failed before it: nothing more to say.
        }

        if (!_committed && _created && FilePath is not null)
        {
            try
            {
                File.Delete(FilePath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }
}
