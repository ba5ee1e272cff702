using System.Runtime.InteropServices;

namespace ShmKit.Tests;

/// <summary>What a test needs from the machine; a test whose needs are not met is reported as skipped, with the reason.</summary>
[Flags]
internal enum Needs
{
    None = 0,

    /// <summary>An x86-64 process (the ABI tables are checked for that architecture).</summary>
    X64 = 1,

    /// <summary>Root (SHM_LOCK without a memlock limit, SetOwner to another user, switching to uid 65534).</summary>
    Root = 2,

    /// <summary>vm.overcommit_memory is not 1 (always): the kernel refuses sizes it cannot back.</summary>
    OvercommitChecked = 4,

    /// <summary>vm.overcommit_memory is 0 (heuristic): sizes beyond memory + swap fail unless NoReserve is given.</summary>
    OvercommitHeuristic = 8,

    /// <summary>vm.overcommit_memory is not 2 (strict): NoReserve segments skip the accounting.</summary>
    OvercommitNotStrict = 16,

    /// <summary>setpriv and unshare (util-linux) to run children as another user or in a new IPC namespace.</summary>
    UtilLinux = 32,

    /// <summary>gcc, to build the C side of the interop tests.</summary>
    Gcc = 64,

    /// <summary>The aarch64 cross compiler (aarch64-linux-gnu-gcc, Debian package gcc-aarch64-linux-gnu), to check the arm64 layouts.</summary>
    Aarch64Gcc = 128,

    /// <summary>No huge pages reserved (vm.nr_hugepages = 0), so SHM_HUGETLB creation fails.</summary>
    NoHugePages = 256,

    /// <summary>Free huge pages in the pool (HugePages_Free > 0), so SHM_HUGETLB creation succeeds.</summary>
    FreeHugePages = 512,

    /// <summary>groff (Debian package groff-base), to check that the man page renders without warnings.</summary>
    Groff = 1024,

    /// <summary>zsh, to run the zsh completion script (.ci/run installs it).</summary>
    Zsh = 2048,

    /// <summary>fish, to run the fish completion script (.ci/run installs it).</summary>
    Fish = 4096,
}

/// <summary>
/// The one convention for tests that need something of the machine (root, a second user through setpriv, huge pages,
/// gcc, a cross compiler, an overcommit policy): a [Fact] that is reported as skipped, with the reason, when the
/// machine lacks it. Never return early or fail for a missing prerequisite. xunit v2 decides skips when tests are
/// discovered, so the conditions are checked here rather than inside the test.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class EnvironmentFactAttribute : FactAttribute
{
    public EnvironmentFactAttribute(Needs needs)
    {
        Skip = Check(needs);
    }

    internal static string? Check(Needs needs)
    {
        if (needs.HasFlag(Needs.X64) && RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            return $"the ABI tables are checked on x86-64 only; this process is {RuntimeInformation.ProcessArchitecture}";
        }

        if (needs.HasFlag(Needs.Root) && Environment.UserName != "root" && !IsUidZero())
        {
            return "needs root";
        }

        string overcommit = File.Exists("/proc/sys/vm/overcommit_memory") ? File.ReadAllText("/proc/sys/vm/overcommit_memory").Trim() : "?";
        if (needs.HasFlag(Needs.OvercommitChecked) && overcommit == "1")
        {
            return "vm.overcommit_memory=1 makes the kernel accept any size";
        }

        if (needs.HasFlag(Needs.OvercommitHeuristic) && overcommit != "0")
        {
            return $"needs vm.overcommit_memory=0 (heuristic), this machine has {overcommit}";
        }

        if (needs.HasFlag(Needs.OvercommitNotStrict) && overcommit == "2")
        {
            return "vm.overcommit_memory=2 accounts even NoReserve segments";
        }

        if (needs.HasFlag(Needs.UtilLinux) && !(OnPath("setpriv") && OnPath("unshare")))
        {
            return "setpriv and unshare (util-linux) are not installed";
        }

        if (needs.HasFlag(Needs.Gcc) && !OnPath("gcc"))
        {
            return "gcc is not installed";
        }

        if (needs.HasFlag(Needs.Zsh) && !OnPath("zsh"))
        {
            return "zsh is not installed (.ci/run installs it)";
        }

        if (needs.HasFlag(Needs.Fish) && !OnPath("fish"))
        {
            return "fish is not installed (.ci/run installs it)";
        }

        if (needs.HasFlag(Needs.Groff) && !OnPath("groff"))
        {
            return "groff is not installed (apt-get install groff-base)";
        }

        if (needs.HasFlag(Needs.Aarch64Gcc) && !OnPath(Aarch64Compiler))
        {
            return $"{Aarch64Compiler} is not installed (Debian package gcc-aarch64-linux-gnu; .ci/run installs it)";
        }

        if (needs.HasFlag(Needs.NoHugePages) && ReadProc("/proc/sys/vm/nr_hugepages") is { } reserved && reserved != "0")
        {
            return $"vm.nr_hugepages={reserved}: huge pages are reserved here, so creating with them may succeed";
        }

        if (needs.HasFlag(Needs.FreeHugePages) && FreeHugePages() == 0)
        {
            return "no free huge pages (HugePages_Free is 0 in /proc/meminfo)";
        }

        return null;
    }

    /// <summary>The cross compiler the arm64 layout test uses.</summary>
    internal const string Aarch64Compiler = "aarch64-linux-gnu-gcc";

    private static string? ReadProc(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : null;

    private static ulong FreeHugePages() =>
        File.ReadLines("/proc/meminfo")
            .Where(l => l.StartsWith("HugePages_Free:", StringComparison.Ordinal))
            .Select(l => ulong.Parse(l.Split(':')[1].Trim(), System.Globalization.CultureInfo.InvariantCulture))
            .FirstOrDefault();

    private static bool IsUidZero() =>
        File.ReadLines("/proc/self/status").Any(l => l.StartsWith("Uid:", StringComparison.Ordinal) && l.Split('\t', StringSplitOptions.RemoveEmptyEntries)[2] == "0");

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':').Any(d => File.Exists(Path.Combine(d, program)));
}
