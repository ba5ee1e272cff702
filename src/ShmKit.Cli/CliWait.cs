using System.Globalization;
using System.Runtime.InteropServices;

namespace ShmKit.Cli;

/// <summary>
/// A command's one wait in the kernel (<c>msg recv</c>, <c>msg send</c>, <c>sem op</c>) that costs no CPU: the call
/// blocks in the kernel without a cancellation token (a token would make the library poll: the kernel has no
/// cancellable msgrcv), and what must end it early (Ctrl-C, SIGTERM, <c>--timeout</c>) ends the process instead, from
/// the signal handler or a timer thread, while the main thread is still blocked.
/// </summary>
/// <remarks>
/// <para><b>The point of no return.</b> Once the call has returned, its effect is real (a message left the queue, a
/// semaphore changed) and must be reported, not cut off. The main thread claims that moment with <see cref="Run{T}"/>'s
/// commit, the ending side with its own compare-exchange on the same state; whichever comes first wins:</para>
/// <list type="bullet">
/// <item>the call returns first: the command finishes normally (writes the message, prints the result) and the
/// signal or timeout is ignored, since the work it would have stopped is already done;</item>
/// <item>the signal or timeout comes first: it waits <see cref="CommitGrace"/> for a call that is returning at that
/// very moment to commit (it then finishes as above), and otherwise exits with 130 (SIGINT), 143 (SIGTERM) or
/// <see cref="CliErrors.Timeout"/> and one line on stderr.</item>
/// </list>
/// <para>What no user-space program can close: the kernel hands a message to a receiver blocked in msgrcv while it
/// sleeps, so a message sent within microseconds of the exit can be taken and then lost with the process, as with any
/// msgrcv caller that is killed. The grace makes the window no wider than that.</para>
/// </remarks>
internal sealed class CliWait : IDisposable
{
    /// <summary>How long an ending signal or timeout waits for a call that returned at the same moment to commit.</summary>
    private static readonly TimeSpan CommitGrace = TimeSpan.FromMilliseconds(200);

    // The state, changed only by compare-exchange. Written by the main thread (Waiting -> Committed, Ending -> Committed)
    // and by the signal handler or timer thread (Waiting -> Ending, Ending -> Exiting); each side reads it through the
    // result of its own Interlocked.CompareExchange, so both see one order of transitions.
    private const int Waiting = 0;
    private const int Ending = 1;
    private const int Committed = 2;
    private const int Exiting = 3;
    private int _state;

    // Set by the main thread when it commits after an ending side has begun (Ending -> Committed); waited on by that side.
    private readonly ManualResetEventSlim _committed = new();
    private readonly PosixSignalRegistration _sigint;
    private readonly PosixSignalRegistration _sigterm;
    private readonly Timer? _timer;
    private readonly string _nothingDone;

    private CliWait(TimeSpan? timeout, Func<string> describeTimeout, string nothingDone)
    {
        _nothingDone = nothingDone;
        _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        if (timeout is { } t)
        {
            _timer = new Timer(_ => End(CliErrors.Timeout, describeTimeout()), null, t, System.Threading.Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// Runs <paramref name="blockingCall"/> (a library call with no timeout and no token), ending the process on
    /// Ctrl-C, SIGTERM or after <paramref name="timeout"/> as described on <see cref="CliWait"/>.
    /// </summary>
    /// <param name="blockingCall">The call.</param>
    /// <param name="timeout">When to give up; null to wait without a limit.</param>
    /// <param name="describeTimeout">The message when <paramref name="timeout"/> passes.</param>
    /// <param name="nothingDone">What did not happen when the wait ends early, for the message ("nothing was received").</param>
    /// <returns>What the call returned.</returns>
    internal static T Run<T>(Func<T> blockingCall, TimeSpan? timeout, Func<string> describeTimeout, string nothingDone)
    {
        using var wait = new CliWait(timeout, describeTimeout, nothingDone);
        try
        {
            return blockingCall();
        }
        finally
        {
            // Also when the call failed: the failure is reported by the command, not cut off by a late signal.
            wait.Commit();
        }
    }

    /// <summary>The message for a timeout, in the form the library uses ("... timed out after 300 ms ...").</summary>
    internal static string TimedOut(string operation, TimeSpan timeout, string what) => string.Create(CultureInfo.InvariantCulture,
        $"{operation} timed out after {timeout.TotalMilliseconds:0.###} ms: {what}");

    public void Dispose()
    {
        _timer?.Dispose();
        _sigint.Dispose();
        _sigterm.Dispose();
    }

    private void Commit()
    {
        while (true)
        {
            int state = Interlocked.CompareExchange(ref _state, Committed, Waiting);
            if (state == Waiting || state == Committed)
            {
                return;
            }

            if (state == Ending && Interlocked.CompareExchange(ref _state, Committed, Ending) == Ending)
            {
                _committed.Set();
                return;
            }

            if (state == Exiting)
            {
                // The process is exiting on the other thread: nothing this thread does now would be seen.
                Thread.Sleep(System.Threading.Timeout.Infinite);
            }
        }
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        bool sigint = context.Signal == PosixSignal.SIGINT;
        End(sigint ? CliErrors.Interrupted : CliErrors.Terminated, $"{(sigint ? "interrupted (Ctrl-C)" : "stopped by SIGTERM")} while waiting");
    }

    /// <summary>Ends the process with <paramref name="exitCode"/> unless the main thread commits within the grace.</summary>
    private void End(int exitCode, string message)
    {
        if (Interlocked.CompareExchange(ref _state, Ending, Waiting) != Waiting)
        {
            return; // committed already, or another signal is ending it
        }

        _committed.Wait(CommitGrace);
        if (Interlocked.CompareExchange(ref _state, Exiting, Ending) != Ending)
        {
            return; // the call returned and committed: the command finishes
        }

        CliErrors.WriteLine($"{message.TrimEnd('.')}; {_nothingDone}.");
        Console.Error.Flush();
        Environment.Exit(exitCode);
    }
}
