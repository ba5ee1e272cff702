using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace ShmKit.Tests;

/// <summary>
/// A separately started OS process for cross-process tests: the ShmKit.TestChild program, the shmkit CLI, the
/// benchmark harness (ShmKit.Bench), a C program, or any executable. Output is collected line by line; <see cref="WaitForLine"/> waits for a marker
/// such as READY. Dispose kills the whole process tree if it is still running, so no test leaves a process behind.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = [];
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly object _gate = new();

    private ChildProcess(ProcessStartInfo info)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.RedirectStandardInput = true;
        info.UseShellExecute = false;
        _process = new Process { StartInfo = info, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _lines.CompleteAdding();
                return;
            }

            lock (_gate)
            {
                _stdout.AppendLine(e.Data);
            }

            _lines.Add(e.Data);
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_gate)
                {
                    _stderr.AppendLine(e.Data);
                }
            }
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The path of the built ShmKit.TestChild.dll, next to the test assembly.</summary>
    internal static string TestChildDll => Path.Combine(AppContext.BaseDirectory, "ShmKit.TestChild.dll");

    /// <summary>The path of the built shmkit CLI (ShmKit.Cli.dll), next to the test assembly.</summary>
    internal static string CliDll => Path.Combine(AppContext.BaseDirectory, "ShmKit.Cli.dll");

    /// <summary>The path of the built benchmark harness (ShmKit.Bench.dll, benchmarks/ShmKit.Bench), next to the test assembly.</summary>
    internal static string BenchDll => Path.Combine(AppContext.BaseDirectory, "ShmKit.Bench.dll");

    /// <summary>The dotnet host that runs this test process.</summary>
    internal static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host)
            ? host
            : Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";

    internal int Id => _process.Id;

    internal bool HasExited => _process.HasExited;

    internal string StandardOutput
    {
        get
        {
            lock (_gate)
            {
                return _stdout.ToString();
            }
        }
    }

    internal string StandardError
    {
        get
        {
            lock (_gate)
            {
                return _stderr.ToString();
            }
        }
    }

    internal StreamWriter StandardInput => _process.StandardInput;

    /// <summary>Starts ShmKit.TestChild with a verb.</summary>
    internal static ChildProcess StartChild(string verb, params string[] args) =>
        Start(DotnetHost, [TestChildDll, verb, .. args]);

    /// <summary>Starts the shmkit CLI.</summary>
    internal static ChildProcess StartCli(params string[] args) => Start(DotnetHost, [CliDll, .. args]);

    /// <summary>Starts the benchmark harness, optionally with extra environment variables.</summary>
    internal static ChildProcess StartBench(string[] args, IDictionary<string, string>? environment = null) =>
        Start(DotnetHost, [BenchDll, .. args], environment);

    /// <summary>Starts any program.</summary>
    internal static ChildProcess Start(string fileName, IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName, args);
        if (environment is not null)
        {
            foreach (var (k, v) in environment)
            {
                info.Environment[k] = v;
            }
        }

        return new ChildProcess(info);
    }

    /// <summary>Runs ShmKit.TestChild to completion and returns its exit code and output.</summary>
    internal static (int ExitCode, string Stdout, string Stderr) RunChild(string verb, params string[] args)
    {
        using var child = StartChild(verb, args);
        int code = child.WaitForExit(TimeSpan.FromSeconds(60));
        return (code, child.StandardOutput, child.StandardError);
    }

    /// <summary>Runs the shmkit CLI to completion, optionally feeding <paramref name="stdin"/>.</summary>
    internal static (int ExitCode, string Stdout, string Stderr) RunCli(string[] args, byte[]? stdin = null)
    {
        using var child = StartCli(args);
        if (stdin is not null)
        {
            child.StandardInput.BaseStream.Write(stdin);
        }

        child.StandardInput.Close();
        int code = child.WaitForExit(TimeSpan.FromSeconds(60));
        return (code, child.StandardOutput, child.StandardError);
    }

    /// <summary>Waits for a stdout line that contains <paramref name="marker"/>; fails the test on timeout or exit.</summary>
    internal string WaitForLine(string marker, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"child {_process.Id} did not print '{marker}'.\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}");
            }

            try
            {
                if (_lines.TryTake(out string? line, left) && line.Contains(marker, StringComparison.Ordinal))
                {
                    return line;
                }
            }
            catch (InvalidOperationException)
            {
                // Completed: the child closed stdout.
            }

            if (_lines.IsCompleted)
            {
                throw new InvalidOperationException($"child exited before printing '{marker}'.\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}");
            }
        }
    }

    /// <summary>Waits for exit; on timeout kills the process tree and fails.</summary>
    internal int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            Kill();
            throw new TimeoutException($"child {_process.Id} did not exit within {timeout}.\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}");
        }

        _process.WaitForExit(); // drain the output
        return _process.ExitCode;
    }

    /// <summary>SIGKILL to the whole tree.</summary>
    internal void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
        _lines.Dispose();
    }
}
