using System.Globalization;

namespace ShmKit.Tests.Segments;

/// <summary>Helpers shared by the segment tests: the kernel's own views (/proc) and unprivileged children.</summary>
internal static class SegmentTestSupport
{
    /// <summary>The unprivileged user and group that child processes switch to (nobody/nogroup).</summary>
    internal const int Nobody = 65534;

    internal static uint EffectiveUserId => TestInterop.geteuid();

    internal static uint EffectiveGroupId => TestInterop.getegid();

    /// <summary>One row of /proc/sysvipc/shm, the kernel's own listing.</summary>
    internal sealed record ProcShmRow(int Key, int Id, int Perms, long Size, int CreatorPid, int LastPid, long AttachCount, uint Uid, uint Gid, uint Cuid, uint Cgid, long AttachTime, long DetachTime, long ChangeTime);

    internal static Dictionary<int, ProcShmRow> ReadProcSysvipcShm()
    {
        var rows = new Dictionary<int, ProcShmRow>();
        foreach (string line in File.ReadLines("/proc/sysvipc/shm").Skip(1))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 14)
            {
                continue;
            }

            // key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime rss swap
            var row = new ProcShmRow(
                int.Parse(f[0], CultureInfo.InvariantCulture),
                int.Parse(f[1], CultureInfo.InvariantCulture),
                Convert.ToInt32(f[2], 8),
                long.Parse(f[3], CultureInfo.InvariantCulture),
                int.Parse(f[4], CultureInfo.InvariantCulture),
                int.Parse(f[5], CultureInfo.InvariantCulture),
                long.Parse(f[6], CultureInfo.InvariantCulture),
                uint.Parse(f[7], CultureInfo.InvariantCulture),
                uint.Parse(f[8], CultureInfo.InvariantCulture),
                uint.Parse(f[9], CultureInfo.InvariantCulture),
                uint.Parse(f[10], CultureInfo.InvariantCulture),
                long.Parse(f[11], CultureInfo.InvariantCulture),
                long.Parse(f[12], CultureInfo.InvariantCulture),
                long.Parse(f[13], CultureInfo.InvariantCulture));
            rows[row.Id] = row;
        }

        return rows;
    }

    internal static ulong ReadProcULong(string path) =>
        ulong.Parse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture);

    /// <summary>Runs a program to completion and returns its exit code and output.</summary>
    internal static (int ExitCode, string Stdout, string Stderr) Run(string fileName, params string[] args)
    {
        using var child = ChildProcess.Start(fileName, args);
        child.StandardInput.Close();
        int code = child.WaitForExit(TimeSpan.FromSeconds(60));
        return (code, child.StandardOutput, child.StandardError);
    }

    /// <summary>
    /// Copies the child program to a world-readable temporary directory (the build output may sit under a
    /// directory that uid 65534 cannot enter) so that it can run as nobody. Delete the directory when done.
    /// </summary>
    internal static string CopyChildForNobody()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("System V IPC tests run on Linux only.");
        }

        var dir = Directory.CreateTempSubdirectory("shmkit-nobody-");
        File.SetUnixFileMode(dir.FullName, (UnixFileMode)0x1ED); // 0755
        foreach (string name in new[] { "ShmKit.TestChild.dll", "ShmKit.TestChild.runtimeconfig.json", "ShmKit.TestChild.deps.json", "ShmKit.dll" })
        {
            string target = Path.Combine(dir.FullName, name);
            File.Copy(Path.Combine(AppContext.BaseDirectory, name), target);
            File.SetUnixFileMode(target, (UnixFileMode)0x1A4); // 0644
        }

        return dir.FullName;
    }

    /// <summary>Runs a ShmKit.TestChild verb as uid/gid 65534 with no supplementary groups.</summary>
    internal static (int ExitCode, string Stdout, string Stderr) RunChildAsNobody(string verb, params string[] args) =>
        RunChildAsNobody(memlockBytes: null, verb, args);

    /// <summary>As <see cref="RunChildAsNobody(string, string[])"/>, with RLIMIT_MEMLOCK set to <paramref name="memlockBytes"/> (prlimit).</summary>
    internal static (int ExitCode, string Stdout, string Stderr) RunChildAsNobody(long? memlockBytes, string verb, params string[] args)
    {
        string dir = CopyChildForNobody();
        try
        {
            string[] prefix = memlockBytes is long m
                ? ["prlimit", string.Create(CultureInfo.InvariantCulture, $"--memlock={m}:{m}"), "setpriv"]
                : ["setpriv"];
            return Run(prefix[0], [
                .. prefix[1..],
                "--reuid=" + Nobody.ToString(CultureInfo.InvariantCulture),
                "--regid=" + Nobody.ToString(CultureInfo.InvariantCulture),
                "--clear-groups",
                ChildProcess.DotnetHost,
                Path.Combine(dir, "ShmKit.TestChild.dll"),
                verb,
                .. args]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Asserts the outcome of each named step in a child's "step: outcome" report, all at once, so a failure shows
    /// every step that went differently.
    /// </summary>
    internal static void AssertOutcomes(string stdout, params (string Step, string Outcome)[] expected)
    {
        var report = ParseReport(stdout);
        var actual = expected.Select(e => (e.Step, report.GetValueOrDefault(e.Step, "(missing)"))).ToArray();
        Assert.Equal(expected, actual);
    }

    /// <summary>Parses "name: value" lines of a child's output.</summary>
    internal static Dictionary<string, string> ParseReport(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.Contains(": ", StringComparison.Ordinal))
            .Select(l => l.Split(": ", 2))
            .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
}
