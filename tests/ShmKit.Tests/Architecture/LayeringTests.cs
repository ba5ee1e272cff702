using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;

namespace ShmKit.Tests.Layering;

/// <summary>
/// The layers of src/ShmKit, by source folder, lowest first: Interop (0) &lt; Errors = Kernel (1) &lt; Memory (2) &lt;
/// Synchronization (3) &lt; Channels (4). A type may refer only to types of its own layer or below. Each type's folder
/// comes from the portable PDB, its references from the metadata and its IL (see <see cref="AssemblyModel"/>).
/// </summary>
public class LayeringTests
{
    private static readonly Dictionary<string, int> s_layers = new(StringComparer.Ordinal)
    {
        ["Interop"] = 0,
        ["Errors"] = 1,
        ["Kernel"] = 1,
        ["Memory"] = 2,
        ["Synchronization"] = 3,
        ["Channels"] = 4,
    };

    [Fact]
    public void Every_Type_Sits_In_One_Layer_Folder()
    {
        using var model = AssemblyModel.OpenShmKit();
        var problems = new List<string>();
        foreach (var type in model.Types.Where(model.IsProductType))
        {
            var folders = model.Folders(type);
            if (folders.Count > 1)
            {
                problems.Add($"{model.Name(type)} is compiled from several folders: {string.Join(", ", folders)} ({model.Documents(type)})");
            }
            else if (folders.Count == 1 && !s_layers.ContainsKey(folders.Single()))
            {
                problems.Add($"{model.Name(type)} is in src/ShmKit/{folders.Single()}, which is not a layer ({string.Join(", ", s_layers.Keys)})");
            }
            else if (folders.Count == 0 && !model.IsCompilerGenerated(type) && Layer(model, type) is null)
            {
                problems.Add($"{model.Name(type)}: the PDB names no source file under src/ShmKit for it");
            }
        }

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void No_Type_Refers_To_A_Higher_Layer()
    {
        using var model = AssemblyModel.OpenShmKit();
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        int checkedReferences = 0;
        foreach (var type in model.Types)
        {
            if (Layer(model, type) is not (string folder, int layer))
            {
                continue;
            }

            foreach (var (target, where) in model.References(type))
            {
                if (Layer(model, target) is not (string targetFolder, int targetLayer))
                {
                    continue;
                }

                checkedReferences++;
                if (targetLayer > layer)
                {
                    violations.Add($"{model.Name(type)} ({folder}, layer {layer}) refers to {model.Name(target)} ({targetFolder}, layer {targetLayer}) in its {where}");
                }
            }
        }

        Assert.True(violations.Count == 0, "A lower layer refers to a higher one:\n" + string.Join('\n', violations));
        Assert.True(checkedReferences > 500, $"only {checkedReferences} references between layered types were found: the model reads too little");
    }

    [Fact]
    public void Interop_Declares_No_Public_Type_And_Constructs_No_Exception()
    {
        using var model = AssemblyModel.OpenShmKit();
        var module = typeof(SharedMemorySegment).Assembly.ManifestModule;
        var problems = new List<string>();
        int interopTypes = 0;
        foreach (var type in model.Types.Where(t => Layer(model, t) is ("Interop", _)))
        {
            interopTypes++;
            if (model.IsVisibleOutside(type))
            {
                problems.Add($"{model.Name(type)} is public: Interop declares internal types only");
            }

            foreach (var (method, opCode, token) in model.IlTokens(type))
            {
                if (opCode != System.Reflection.Emit.OpCodes.Newobj.Value)
                {
                    continue;
                }

                var constructed = module.ResolveMethod(MetadataTokens.GetToken(token))?.DeclaringType;
                if (constructed is not null && typeof(Exception).IsAssignableFrom(constructed))
                {
                    problems.Add($"{model.Name(type)}.{method} constructs {constructed.FullName}: exceptions are built in Errors/, Interop only declares");
                }
            }
        }

        Assert.True(interopTypes >= 6, $"only {interopTypes} Interop types found");
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void Only_Interop_Types_Declare_Native_Methods()
    {
        using var model = AssemblyModel.OpenShmKit();
        var outside = new List<string>();
        int inside = 0;
        foreach (var type in model.Types)
        {
            foreach (string method in model.NativeMethods(type))
            {
                if (Layer(model, type) is ("Interop", _))
                {
                    inside++;
                }
                else
                {
                    outside.Add($"{model.Name(type)}.{method}");
                }
            }
        }

        Assert.True(outside.Count == 0, "native methods outside src/ShmKit/Interop:\n" + string.Join('\n', outside));
        Assert.True(inside > 10, $"only {inside} native methods found in Interop");
    }

    [Fact]
    public void The_Model_Sees_A_Known_Reference_In_Each_Kind_Of_Place()
    {
        // A check of the checker: references the layering test must see, or it would pass by seeing nothing.
        using var model = AssemblyModel.OpenShmKit();
        var byName = model.Types.ToDictionary(model.Name, t => t, StringComparer.Ordinal);
        bool Refers(string from, string to, string whereStartsWith) =>
            model.References(byName[from]).Any(r => model.Name(r.Target) == to && r.Where.StartsWith(whereStartsWith, StringComparison.Ordinal));

        Assert.True(Refers("ShmKit.IpcObjectNotFoundException", "ShmKit.IpcException", "base type"));
        Assert.True(Refers("ShmKit.SharedMemoryRendezvous", "ShmKit.SemaphoreSet", "field"));
        Assert.True(Refers("ShmKit.SharedMemoryRendezvous", "ShmKit.SharedMemorySegment", "method Create (IL)"));
        Assert.True(Refers("ShmKit.SharedMemorySegment", "ShmKit.Interop.Shm+shmid_ds", "method OpenById (locals)"));
        Assert.True(Refers("ShmKit.SemaphoreSetKind", "ShmKit.SemaphoreSetStatus", "interface"));
        Assert.Equal(["Synchronization"], model.Folders(byName["ShmKit.SharedMemoryRendezvous"]));
        Assert.Equal(["Interop"], model.Folders(byName["ShmKit.Interop.Shm"])); // its nested structs take its folder
        Assert.Equal(["Kernel"], model.Folders(byName["ShmKit.IpcObjectKind"]));
    }

    /// <summary>The type's folder and layer: its own documents, or its declaring type's (nested types without code).</summary>
    private static (string Folder, int Layer)? Layer(AssemblyModel model, TypeDefinitionHandle type)
    {
        while (true)
        {
            var folders = model.Folders(type);
            if (folders.Count == 1 && s_layers.TryGetValue(folders.Single(), out int layer))
            {
                return (folders.Single(), layer);
            }

            if (folders.Count > 0 || model.Metadata.GetTypeDefinition(type).GetDeclaringType() is not { IsNil: false } outer)
            {
                return null;
            }

            type = outer;
        }
    }
}
