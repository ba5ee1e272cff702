using System.Diagnostics;

namespace ShmKit.Sample;

/// <summary>Starts this program again as the peer of a section, and ends it: always, also when the lead fails.</summary>
internal sealed class PeerLauncher(string section)
{
    /// <summary>How long any wait of the sample may take before it counts as a failure.</summary>
    internal static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Starts the peer with <paramref name="args"/>: this executable (the native binary when published with NativeAOT,
    /// the apphost under dotnet run), or <c>dotnet ShmKit.Sample.dll</c> when run that way.
    /// </summary>
    internal Process Start(params string[] args)
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this executable to start the peer");
        var info = new ProcessStartInfo(self) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            info.ArgumentList.Add(Environment.GetCommandLineArgs()[0]);
        }

        info.ArgumentList.Add("peer");
        info.ArgumentList.Add(section);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("could not start the peer");
    }

    /// <summary>Waits for the peer to exit with 0; kills it if it is still there after <see cref="Timeout"/>.</summary>
    internal static void WaitForSuccess(Process peer)
    {
        if (!peer.WaitForExit(Timeout))
        {
            Kill(peer);
            throw new TimeoutException($"the peer did not finish within {Timeout.TotalSeconds} s");
        }

        if (peer.ExitCode != 0)
        {
            throw new InvalidOperationException($"the peer failed (exit code {peer.ExitCode})");
        }
    }

    /// <summary>Kills the peer if it still runs (a lead that fails must not leave it behind).</summary>
    internal static void Kill(Process peer)
    {
        try
        {
            if (!peer.HasExited)
            {
                peer.Kill();
                peer.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }
}
