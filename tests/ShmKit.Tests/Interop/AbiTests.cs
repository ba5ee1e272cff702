using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace ShmKit.Tests.Interop;

/// <summary>
/// The Interop layer's structs and constants against the C headers of this machine: a C program generated from the
/// declarations themselves (every struct named in C style and every C-named constant in ShmKit.Interop) prints
/// sizeof, offsetof and the macro values (from glibc's headers, or the kernel's uapi headers for the few glibc does
/// not export), and the test compares them with Marshal.SizeOf / Marshal.OffsetOf and the C# constants.
/// </summary>
public partial class AbiTests
{
    /// <summary>C# struct name -> C struct tag, where they differ. semid_ds has two layouts; x86-64 uses this one.</summary>
    private static readonly Dictionary<string, string> s_structTags = new(StringComparer.Ordinal)
    {
        ["semid_ds_x64"] = "semid_ds",
        ["epoll_event_x64"] = "epoll_event",
    };

    /// <summary>Declared for other architectures: not comparable with the x86-64 headers.</summary>
    private static readonly HashSet<string> s_otherArchitectures = new(StringComparer.Ordinal) { "semid_ds_generic64", "epoll_event_generic64" };

    /// <summary>On arm64 semid_ds has the asm-generic layout, and the x86-64 one does not apply.</summary>
    private static readonly Dictionary<string, string> s_arm64StructTags = new(StringComparer.Ordinal)
    {
        ["semid_ds_generic64"] = "semid_ds",
        ["epoll_event_generic64"] = "epoll_event",
    };

    private static readonly HashSet<string> s_notArm64 = new(StringComparer.Ordinal) { "semid_ds_x64", "epoll_event_x64" };

    private static readonly string[] s_requiredStructs =
        ["ipc_perm", "shmid_ds", "shminfo", "shm_info", "semid_ds", "sembuf", "seminfo", "msqid_ds", "msginfo", "timespec", "futex_waitv", "epoll_event"];

    private static readonly string[] s_requiredConstants =
    [
        "IPC_PRIVATE", "IPC_CREAT", "IPC_EXCL", "IPC_NOWAIT", "IPC_RMID", "IPC_SET", "IPC_STAT", "IPC_INFO",
        "SHM_HUGETLB", "SHM_NORESERVE", "SHM_RDONLY", "SHM_RND", "SHM_REMAP", "SHM_LOCK", "SHM_UNLOCK", "SHM_STAT", "SHM_INFO", "SHM_STAT_ANY", "SHM_DEST", "SHM_LOCKED",
        "SEM_UNDO", "GETPID", "GETVAL", "GETALL", "GETNCNT", "GETZCNT", "SETVAL", "SETALL", "SEM_STAT", "SEM_INFO", "SEM_STAT_ANY",
        "MSG_NOERROR", "MSG_EXCEPT", "MSG_COPY", "MSG_STAT", "MSG_INFO", "MSG_STAT_ANY",
        "EPERM", "ENOENT", "EINTR", "EAGAIN", "ENOMEM", "EACCES", "EEXIST", "EINVAL", "ENOSPC", "E2BIG", "ENOMSG", "EIDRM", "ERANGE", "EFBIG",
        "FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_WAIT_BITSET", "FUTEX_PRIVATE_FLAG", "FUTEX_BITSET_MATCH_ANY", "FUTEX_32", "FUTEX_WAITV_MAX", "CLOCK_MONOTONIC",
        "EPOLL_CLOEXEC", "EPOLL_CTL_ADD", "EPOLL_CTL_DEL", "EPOLLIN", "EFD_CLOEXEC", "EFD_NONBLOCK", "O_CLOEXEC", "PR_SET_PDEATHSIG", "ESRCH", "ENOSYS", "EMFILE",
    ];

    [GeneratedRegex("^[a-z_][a-z0-9_]*$")]
    private static partial Regex CStructName();

    [GeneratedRegex("^[A-Z][A-Z0-9_]*$")]
    private static partial Regex CMacroName();

    private static IEnumerable<Type> InteropClasses() =>
        typeof(SharedMemorySegment).Assembly.GetTypes()
            .Where(t => t.Namespace == "ShmKit.Interop" && t.IsClass && t.IsAbstract && t.IsSealed); // static classes

    private static IEnumerable<(Type Type, string Tag)> Structs() => Structs(s_structTags, s_otherArchitectures);

    private static IEnumerable<(Type Type, string Tag)> Structs(Dictionary<string, string> tags, HashSet<string> excluded) =>
        InteropClasses()
            .SelectMany(c => c.GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic))
            .Where(t => t.IsValueType && !t.IsEnum && CStructName().IsMatch(t.Name) && !excluded.Contains(t.Name))
            .Select(t => (t, tags.GetValueOrDefault(t.Name, t.Name)));

    private static IEnumerable<(string Name, long Value)> Constants() =>
        InteropClasses()
            .SelectMany(c => c.GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
            .Where(f => f.IsLiteral && CMacroName().IsMatch(f.Name) && f.FieldType != typeof(string))
            .Select(f => (f.Name, Convert.ToInt64(f.GetRawConstantValue(), CultureInfo.InvariantCulture)));

    private static FieldInfo[] Fields(Type type) =>
        type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);

    private static string GenerateProgram()
    {
        var c = new StringBuilder();
        c.AppendLine("#define _GNU_SOURCE");
        foreach (string h in new[] { "stdio.h", "stddef.h", "errno.h", "signal.h", "time.h", "fcntl.h", "sys/ipc.h", "sys/shm.h", "sys/sem.h", "sys/msg.h", "sys/epoll.h", "sys/eventfd.h", "sys/prctl.h", "linux/futex.h" })
        {
            c.Append("#include <").Append(h).AppendLine(">");
        }

        c.AppendLine("int main(void) {");
        foreach (var (type, tag) in Structs())
        {
            c.AppendLine(CultureInfo.InvariantCulture, $"  printf(\"S {type.Name} %zu\\n\", sizeof(struct {tag}));");
            foreach (var f in Fields(type))
            {
                c.AppendLine(CultureInfo.InvariantCulture,
                    $"  printf(\"F {type.Name}.{f.Name} %zu %zu\\n\", offsetof(struct {tag}, {f.Name}), sizeof(((struct {tag}*)0)->{f.Name}));");
            }
        }

        AppendConstants(c, Constants().Select(k => k.Name));
        c.AppendLine("  return 0;").AppendLine("}");
        return c.ToString();
    }

    /// <summary>
    /// Constants that glibc does not export (SEMVMX, for example, is only in the kernel's uapi headers) are
    /// looked up there instead: a second program that includes only linux/*.h.
    /// </summary>
    private static string GenerateKernelHeaderProgram(IEnumerable<string> names)
    {
        var c = new StringBuilder();
        foreach (string h in new[] { "stdio.h", "linux/errno.h", "linux/ipc.h", "linux/shm.h", "linux/sem.h", "linux/msg.h", "linux/futex.h" })
        {
            c.Append("#include <").Append(h).AppendLine(">");
        }

        c.AppendLine("int main(void) {");
        AppendConstants(c, names);
        c.AppendLine("  return 0;").AppendLine("}");
        return c.ToString();
    }

    /// <summary>Prints "C NAME value" for a macro the headers define and "N NAME" for one they do not.</summary>
    private static void AppendConstants(StringBuilder c, IEnumerable<string> names)
    {
        foreach (string name in names)
        {
            c.AppendLine(CultureInfo.InvariantCulture, $"#ifdef {name}");
            c.AppendLine(CultureInfo.InvariantCulture, $"  printf(\"C {name} %lld\\n\", (long long)({name}));");
            c.AppendLine("#else");
            c.AppendLine(CultureInfo.InvariantCulture, $"  printf(\"N {name}\\n\");");
            c.AppendLine("#endif");
        }
    }

    private static Dictionary<string, long[]> RunAndParse(string source, string name)
    {
        using var program = NativeProgram.Compile(source, name);
        var (code, stdout, stderr) = program.Run();
        Assert.True(code == 0, stderr);
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' '))
            .ToDictionary(p => p[0] + " " + p[1], p => p[2..].Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToArray(), StringComparer.Ordinal);
    }

    [Fact]
    public void Every_Required_Struct_And_Constant_Is_Covered()
    {
        var structs = Structs().Select(s => s.Tag).ToHashSet(StringComparer.Ordinal);
        Assert.All(s_requiredStructs, s => Assert.Contains(s, structs));
        var constants = Constants().Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        Assert.All(s_requiredConstants, c => Assert.Contains(c, constants));
    }

    [EnvironmentFact(Needs.X64 | Needs.Gcc)]
    public void Structs_And_Constants_Match_The_C_Headers()
    {
        var c = RunAndParse(GenerateProgram(), "abi");
        string[] notInLibc = c.Keys.Where(k => k.StartsWith("N ", StringComparison.Ordinal)).Select(k => k[2..]).ToArray();
        if (notInLibc.Length > 0)
        {
            foreach (var (key, value) in RunAndParse(GenerateKernelHeaderProgram(notInLibc), "abi_uapi"))
            {
                c[key] = value;
            }
        }

        var mismatches = new List<string>();
        int compared = 0;
        foreach (var (type, tag) in Structs())
        {
            compared++;
            long size = Marshal.SizeOf(type);
            if (c[$"S {type.Name}"][0] != size)
            {
                mismatches.Add($"sizeof(struct {tag}): C {c[$"S {type.Name}"][0]}, C# {size}");
            }

            foreach (var f in Fields(type))
            {
                compared++;
                long offset = Marshal.OffsetOf(type, f.Name).ToInt64();
                long fieldSize = Marshal.SizeOf(f.FieldType);
                long[] native = c[$"F {type.Name}.{f.Name}"];
                if (native[0] != offset || native[1] != fieldSize)
                {
                    mismatches.Add($"struct {tag}.{f.Name}: C offset {native[0]} size {native[1]}, C# offset {offset} size {fieldSize}");
                }
            }
        }

        foreach (var (name, value) in Constants())
        {
            compared++;
            if (!c.TryGetValue($"C {name}", out long[]? found))
            {
                mismatches.Add($"{name}: neither the glibc nor the kernel uapi headers define it (Interop constants must be C names)");
                continue;
            }

            long native = found[0];
            if (native != value)
            {
                mismatches.Add($"{name}: C {native} (0x{native:x}), C# {value} (0x{value:x})");
            }
        }

        Assert.True(mismatches.Count == 0, string.Join('\n', mismatches));
        Assert.True(compared > 100, $"only {compared} items compared");
    }

    [EnvironmentFact(Needs.X64)]
    public void Semid_ds_On_x64_Is_The_x64_Layout()
    {
        Assert.Equal(104, Marshal.SizeOf<ShmKit.Interop.Sem.semid_ds_x64>());
        Assert.Equal(88, Marshal.SizeOf<ShmKit.Interop.Sem.semid_ds_generic64>());
        Assert.Equal(48, Marshal.SizeOf<ShmKit.Interop.Ipc.ipc_perm>());
        Assert.Equal(112, Marshal.SizeOf<ShmKit.Interop.Shm.shmid_ds>());
    }
    /// <summary>
    /// The same structs and constants against the arm64 headers, without an arm64 machine: a C file of
    /// <c>_Static_assert</c>s on sizeof, offsetof and each field's size (the C# side's values, from Marshal, are the
    /// same on every 64-bit target: the layouts are explicit and use fixed-size fields), compiled for aarch64 with
    /// <c>-fsyntax-only</c>. Constants that glibc does not define are looked up in the kernel's uapi headers.
    /// </summary>
    [EnvironmentFact(Needs.Aarch64Gcc)]
    public void Structs_And_Constants_Match_The_Arm64_Headers()
    {
        var checks = new StringBuilder();
        int asserts = 0;
        void Check(string condition, string message)
        {
            checks.AppendLine(CultureInfo.InvariantCulture, $"_Static_assert({condition}, \"{message}\");");
            asserts++;
        }

        foreach (var (type, tag) in Structs(s_arm64StructTags, s_notArm64))
        {
            Check($"sizeof(struct {tag}) == {Marshal.SizeOf(type)}", $"sizeof(struct {tag}) is {Marshal.SizeOf(type)} in ShmKit.Interop ({type.Name})");
            foreach (var f in Fields(type))
            {
                long offset = Marshal.OffsetOf(type, f.Name).ToInt64();
                long size = Marshal.SizeOf(f.FieldType);
                Check($"offsetof(struct {tag}, {f.Name}) == {offset}", $"offsetof(struct {tag}, {f.Name}) is {offset} in ShmKit.Interop");
                Check($"sizeof(((struct {tag}*)0)->{f.Name}) == {size}", $"sizeof {tag}.{f.Name} is {size} in ShmKit.Interop");
            }
        }

        string ConstantChecks()
        {
            var c = new StringBuilder();
            foreach (var (name, value) in Constants())
            {
                c.AppendLine(CultureInfo.InvariantCulture, $"#ifdef {name}");
                c.AppendLine(CultureInfo.InvariantCulture, $"_Static_assert((long long)({name}) == {value}LL, \"{name} is {value} in ShmKit.Interop\");");
                c.AppendLine("#else");
                c.AppendLine(CultureInfo.InvariantCulture, $"#pragma message \"undefined: {name}\"");
                c.AppendLine("#endif");
            }

            return c.ToString();
        }

        string libc = "#define _GNU_SOURCE\n" + string.Concat(new[] { "stddef.h", "errno.h", "signal.h", "time.h", "fcntl.h", "sys/ipc.h", "sys/shm.h", "sys/sem.h", "sys/msg.h", "sys/epoll.h", "sys/eventfd.h", "sys/prctl.h", "linux/futex.h" }.Select(h => $"#include <{h}>\n"))
            + checks + ConstantChecks();
        string uapi = string.Concat(new[] { "linux/errno.h", "linux/ipc.h", "linux/shm.h", "linux/sem.h", "linux/msg.h", "linux/futex.h" }.Select(h => $"#include <{h}>\n"))
            + ConstantChecks();

        var (libcCode, libcErrors) = CompileForArm64(libc, "abi_arm64");
        var (uapiCode, uapiErrors) = CompileForArm64(uapi, "abi_arm64_uapi");
        Assert.True(libcCode == 0, "the arm64 glibc headers disagree with ShmKit.Interop:\n" + libcErrors);
        Assert.True(uapiCode == 0, "the arm64 kernel headers disagree with ShmKit.Interop:\n" + uapiErrors);
        string[] undefinedEverywhere = Constants().Select(k => k.Name)
            .Where(n => libcErrors.Contains($"undefined: {n}", StringComparison.Ordinal) && uapiErrors.Contains($"undefined: {n}", StringComparison.Ordinal))
            .ToArray();
        Assert.True(undefinedEverywhere.Length == 0, "neither the arm64 glibc nor kernel headers define: " + string.Join(", ", undefinedEverywhere));
        Assert.True(asserts > 60, $"only {asserts} layout checks generated");
    }

    [Fact]
    public void Unverified_Architectures_Fail_Clearly_At_First_Use()
    {
        IpcAbi.EnsureVerified(Architecture.X64);
        IpcAbi.EnsureVerified(Architecture.Arm64);
        foreach (var architecture in new[] { Architecture.X86, Architecture.Arm, Architecture.RiscV64, Architecture.S390x, Architecture.LoongArch64, Architecture.Ppc64le })
        {
            var e = Assert.Throws<PlatformNotSupportedException>(() => IpcAbi.EnsureVerified(architecture));
            Assert.Contains(architecture.ToString(), e.Message, StringComparison.Ordinal);
            Assert.Contains("x64 and arm64", e.Message, StringComparison.Ordinal);
        }
    }

    private static (int ExitCode, string Errors) CompileForArm64(string source, string name)
    {
        string dir = Directory.CreateTempSubdirectory("shmkit-arm64-").FullName;
        try
        {
            string file = Path.Combine(dir, name + ".c");
            File.WriteAllText(file, source);
            var (code, stdout, stderr) = Segments.SegmentTestSupport.Run(EnvironmentFactAttribute.Aarch64Compiler, "-fsyntax-only", "-std=gnu11", file);
            return (code, stdout + stderr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
