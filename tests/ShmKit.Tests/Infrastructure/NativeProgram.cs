using System.Diagnostics;

namespace ShmKit.Tests;

/// <summary>
/// Compiles a small C program with gcc at test time (for ABI checks and interop with native code) into a
/// temporary directory that is deleted on Dispose.
/// </summary>
internal sealed class NativeProgram : IDisposable
{
    private readonly string _directory;

    private NativeProgram(string directory, string path)
    {
        _directory = directory;
        Path = path;
    }

    internal string Path { get; }

    /// <summary>Compiles <paramref name="source"/>; fails the test with gcc's output if it does not compile.</summary>
    internal static NativeProgram Compile(string source, string name = "prog") => Compile(source, name, []);

    /// <summary>Compiles <paramref name="source"/> with extra gcc flags (include directories, warnings as errors).</summary>
    internal static NativeProgram Compile(string source, string name, params string[] flags)
    {
        string dir = Directory.CreateTempSubdirectory("shmkit-c-").FullName;
        string c = System.IO.Path.Combine(dir, name + ".c");
        string exe = System.IO.Path.Combine(dir, name);
        File.WriteAllText(c, source);
        using var gcc = Process.Start(new ProcessStartInfo("gcc", ["-O2", "-Wall", .. flags, "-o", exe, c])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        string errors = gcc.StandardError.ReadToEnd() + gcc.StandardOutput.ReadToEnd();
        if (!gcc.WaitForExit(60_000) || gcc.ExitCode != 0)
        {
            Directory.Delete(dir, recursive: true);
            throw new InvalidOperationException($"gcc failed to compile {name}.c:\n{errors}");
        }

        return new NativeProgram(dir, exe);
    }

    /// <summary>Starts the program as a child process.</summary>
    internal ChildProcess Start(params string[] args) => ChildProcess.Start(Path, args);

    /// <summary>Runs the program to completion.</summary>
    internal (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        using var child = Start(args);
        child.StandardInput.Close();
        int code = child.WaitForExit(TimeSpan.FromSeconds(60));
        return (code, child.StandardOutput, child.StandardError);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
