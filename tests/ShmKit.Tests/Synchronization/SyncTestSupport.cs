using System.Collections.Concurrent;
using System.Globalization;

namespace ShmKit.Tests.Synchronization;

/// <summary>Helpers of the ShmMutex, ShmSemaphore and ShmEvent tests.</summary>
internal static class SyncTestSupport
{
    internal static readonly TimeSpan Generous = TimeSpan.FromSeconds(20);

    internal static readonly ManagedSegmentOptions Options = new() { ParticipantCapacity = 16, DirectoryCapacity = 32 };

    /// <summary>A fresh managed segment with a key that <paramref name="cleanup"/> removes (segment and token set).</summary>
    internal static ManagedSegment NewSegment(IpcCleanup cleanup, ManagedSegmentOptions? options = null) =>
        ManagedSegment.Create(cleanup.NewKey(), 64 * 1024, options ?? Options);

    /// <summary>The key as the child programs parse it.</summary>
    internal static string Arg(this ManagedSegment segment) => segment.Key.ToString();

    /// <summary>Polls <paramref name="condition"/> every few ms until true; fails after <see cref="Generous"/>.</summary>
    internal static void WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Generous;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting for {what}");
            }

            Thread.Sleep(2);
        }
    }

    /// <summary>The 64-bit value at <paramref name="offset"/> (a copying read: holds a reference for its duration).</summary>
    internal static long ReadLong(this ManagedSegment segment, long offset) => segment.Attachment.Read<long>(offset);

    /// <summary>Starts a thread that records its tid and runs <paramref name="body"/>; returns once the tid is known.</summary>
    internal static (Thread Thread, int Tid) StartThread(Action body) => Futexes.FutexTestSupport.StartThread(body);
}

/// <summary>
/// Routes the stdout lines of a long-lived child to the waits of several concurrent callers: a line "TAG a b …" goes
/// to whoever waits for (TAG, a, b). <see cref="ChildProcess.WaitForLine"/> drops lines it does not want, so children
/// that several test threads talk to at once are read through this instead. Writes to the child's stdin are serialized.
/// </summary>
internal sealed class ChildLines : IDisposable
{
    private readonly ChildProcess _child;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _waits = new(StringComparer.Ordinal);
    private readonly Thread _reader;
    private readonly object _stdin = new();
    private volatile bool _stopped;

    internal ChildLines(ChildProcess child)
    {
        _child = child;
        _reader = new Thread(Read) { IsBackground = true, Name = "child lines " + child.Id.ToString(CultureInfo.InvariantCulture) };
        _reader.Start();
    }

    internal ChildProcess Child => _child;

    /// <summary>Sends one line to the child's stdin.</summary>
    internal void Send(string line)
    {
        lock (_stdin)
        {
            _child.StandardInput.WriteLine(line);
            _child.StandardInput.Flush();
        }
    }

    /// <summary>The line that starts with <paramref name="prefix"/> + " " (registered before the child can print it).</summary>
    internal Task<string> Expect(string prefix) => _waits.GetOrAdd(prefix, static _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Waits for <paramref name="line"/> (from <see cref="Expect"/>); fails with the child's output on timeout.</summary>
    internal string Wait(Task<string> line, string what)
    {
        if (!line.Wait(SyncTestSupport.Generous))
        {
            Assert.Fail($"child {_child.Id} did not print {what}.\nstdout:\n{Tail(_child.StandardOutput)}\nstderr:\n{_child.StandardError}");
        }

        return line.Result;
    }

    public void Dispose()
    {
        _stopped = true;
        _child.Dispose();
        _reader.Join(TimeSpan.FromSeconds(10));
    }

    private static string Tail(string s) => s.Length > 4000 ? "…" + s[^4000..] : s;

    private void Read()
    {
        while (!_stopped)
        {
            string line;
            try
            {
                line = _child.WaitForLine(string.Empty, TimeSpan.FromSeconds(1));
            }
            catch (TimeoutException)
            {
                continue;
            }
            catch (InvalidOperationException)
            {
                break; // exited
            }

            string[] parts = line.Split(' ');
            string key = parts.Length >= 3 ? string.Join(' ', parts[0], parts[1], parts[2]) : line;
            _waits.GetOrAdd(key, static _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(line);
        }

        foreach (var wait in _waits.Values)
        {
            wait.TrySetException(new InvalidOperationException($"child {_child.Id} exited.\nstderr:\n{_child.StandardError}"));
        }
    }
}
