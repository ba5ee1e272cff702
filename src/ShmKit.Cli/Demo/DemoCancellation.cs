using System.Runtime.InteropServices;

namespace ShmKit.Cli.Demo;

/// <summary>
/// Turns Ctrl-C, SIGTERM, SIGHUP and, for a half started by <c>shmkit demo</c>, the end of its standard input (the
/// parent's "stop" request, which also comes when the parent dies) and the death of the parent process into one
/// cancellation token, so a demo half unwinds through its <c>using</c> blocks and removes what it created instead of
/// being killed mid-way.
/// </summary>
internal sealed class DemoCancellation : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly List<PosixSignalRegistration> _registrations = [];

    internal DemoCancellation(int parentProcessId)
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                Cancel();
            }));
        }

        SelfProcess.WatchParent(parentProcessId, Cancel);
        if (parentProcessId > 0)
        {
            // Started by `shmkit demo`: stdin is a pipe from the parent, and its end means "stop".
            var stdinWatch = new Thread(() =>
            {
                using var stdin = Console.OpenStandardInput();
                var buffer = new byte[64];
                while (stdin.Read(buffer) > 0)
                {
                }

                Cancel();
            })
            {
                IsBackground = true,
                Name = "stop request watch",
            };
            stdinWatch.Start();
        }
    }

    internal CancellationToken Token => _source.Token;

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _source.Dispose();
    }

    private void Cancel()
    {
        try
        {
            _source.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
