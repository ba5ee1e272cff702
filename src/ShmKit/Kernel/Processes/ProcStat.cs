using System.Buffers.Text;
using ShmKit.Interop;

namespace ShmKit;

/// <summary>What <see cref="ProcStat.TryRead"/> found.</summary>
internal enum ProcStatStatus
{
    /// <summary>Read and parsed.</summary>
    Ok,

    /// <summary>/proc/PID/stat does not exist (ENOENT or ESRCH): no such process in this procfs — or hidden (hidepid).</summary>
    Missing,

    /// <summary>It exists but could not be read (permission, descriptor limit).</summary>
    Unreadable,

    /// <summary>Read, but not in the expected format.</summary>
    Garbage,
}

/// <summary>
/// Reads the two fields ShmKit needs from /proc/PID/stat — the state (field 3) and the start time (field 22, clock
/// ticks after boot) — into a stack buffer, with no allocation. Fields are counted after the LAST ')' because field 2,
/// the command name in parentheses, may itself contain spaces and parentheses.
/// </summary>
internal static unsafe class ProcStat
{
    private const int BufferSize = 2048;

    /// <summary>Reads /proc/<paramref name="pid"/>/stat (pid 0: /proc/self/stat).</summary>
    internal static ProcStatStatus TryRead(int pid, out char state, out ulong startTime)
    {
        state = '\0';
        startTime = 0;
        byte* path = stackalloc byte[40];
        var pathSpan = new Span<byte>(path, 40);
        int length;
        if (pid == 0)
        {
            "/proc/self/stat"u8.CopyTo(pathSpan);
            length = "/proc/self/stat"u8.Length;
        }
        else
        {
            "/proc/"u8.CopyTo(pathSpan);
            if (pid < 0 || !Utf8Formatter.TryFormat(pid, pathSpan[6..], out int digits))
            {
                return ProcStatStatus.Missing;
            }

            "/stat"u8.CopyTo(pathSpan[(6 + digits)..]);
            length = 6 + digits + 5;
        }

        path[length] = 0;
        int fd = FdCalls.open(path, FdCalls.O_RDONLY | FdCalls.O_CLOEXEC);
        if (fd < 0)
        {
            return Errno.Last is Errno.ENOENT or Errno.ESRCH ? ProcStatStatus.Missing : ProcStatStatus.Unreadable;
        }

        byte* buffer = stackalloc byte[BufferSize];
        int total = 0;
        try
        {
            while (total < BufferSize)
            {
                nint n = FdCalls.read(fd, buffer + total, (nuint)(BufferSize - total));
                if (n < 0)
                {
                    int errno = Errno.Last;
                    if (errno == Errno.EINTR)
                    {
                        continue;
                    }

                    // A process that exits between open and read makes read fail with ESRCH.
                    return errno == Errno.ESRCH ? ProcStatStatus.Missing : ProcStatStatus.Unreadable;
                }

                if (n == 0)
                {
                    break;
                }

                total += (int)n;
            }
        }
        finally
        {
            FdCalls.close(fd);
        }

        return Parse(new ReadOnlySpan<byte>(buffer, total), out state, out startTime) ? ProcStatStatus.Ok : ProcStatStatus.Garbage;
    }

    /// <summary>Parses a stat line: state after the last ')', start time 19 fields later.</summary>
    internal static bool Parse(ReadOnlySpan<byte> line, out char state, out ulong startTime)
    {
        state = '\0';
        startTime = 0;
        int close = line.LastIndexOf((byte)')');
        if (close < 0 || close + 3 > line.Length || line[close + 1] != (byte)' ')
        {
            return false;
        }

        ReadOnlySpan<byte> rest = line[(close + 2)..];

        // rest = "S ppid pgrp ..." : field 3 is rest's field 0, field 22 is rest's field 19.
        for (int field = 0; field < 19; field++)
        {
            if (field == 0)
            {
                state = (char)rest[0];
            }

            int space = rest.IndexOf((byte)' ');
            if (space < 0)
            {
                return false;
            }

            rest = rest[(space + 1)..];
        }

        return Utf8Parser.TryParse(rest, out startTime, out int consumed) && consumed > 0;
    }
}
