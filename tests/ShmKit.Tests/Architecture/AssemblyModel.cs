using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace ShmKit.Tests.Layering;

/// <summary>
/// The ShmKit assembly read from its metadata and its portable PDB: for every type, the source folder it was
/// compiled from (the first folder under src/ShmKit/) and the types of the same assembly it refers to, from its
/// base type, interfaces, generic constraints, custom attributes, field types, method and property signatures,
/// local variables and the type, member and signature tokens in its IL.
/// </summary>
internal sealed class AssemblyModel : IDisposable
{
    /// <summary>The kind of CustomDebugInformation Roslyn writes for types without method bodies: their documents.</summary>
    private static readonly Guid s_typeDefinitionDocuments = new("932E74BC-DBA9-4478-8D46-0F32A7BAB3D3");

    private static readonly Dictionary<short, OperandType> s_operands = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value, o => o.OperandType);

    private readonly PEReader _pe;
    private readonly MetadataReaderProvider _pdbProvider;
    private readonly MetadataReader _pdb;
    private readonly TypeCollector _collector = new();

    private AssemblyModel(string assemblyPath)
    {
        _pe = new PEReader(File.OpenRead(assemblyPath));
        Metadata = _pe.GetMetadataReader();
        string pdbPath = Path.ChangeExtension(assemblyPath, ".pdb");
        _pdbProvider = MetadataReaderProvider.FromPortablePdbStream(File.OpenRead(pdbPath));
        _pdb = _pdbProvider.GetMetadataReader();
    }

    internal MetadataReader Metadata { get; }

    /// <summary>Opens the ShmKit.dll (and its PDB) that the tests run against.</summary>
    internal static AssemblyModel OpenShmKit() => new(typeof(SharedMemorySegment).Assembly.Location);

    /// <summary>Every type definition but the &lt;Module&gt; pseudo-type.</summary>
    internal IEnumerable<TypeDefinitionHandle> Types =>
        Metadata.TypeDefinitions.Where(t => Metadata.GetTypeDefinition(t).Name is var n && Metadata.GetString(n) != "<Module>");

    /// <summary>Namespace-qualified name, with '+' for nesting, as reflection spells it.</summary>
    internal string Name(TypeDefinitionHandle handle)
    {
        var type = Metadata.GetTypeDefinition(handle);
        string name = Metadata.GetString(type.Name);
        if (type.GetDeclaringType() is { IsNil: false } outer)
        {
            return Name(outer) + "+" + name;
        }

        string ns = Metadata.GetString(type.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }

    /// <summary>True for types the compiler made up (closures, fixed buffers, &lt;PrivateImplementationDetails&gt;, embedded attributes).</summary>
    internal bool IsCompilerGenerated(TypeDefinitionHandle handle)
    {
        var type = Metadata.GetTypeDefinition(handle);
        if (Metadata.GetString(type.Name).StartsWith('<'))
        {
            return true;
        }

        return type.GetDeclaringType() is { IsNil: false } outer && IsCompilerGenerated(outer);
    }

    /// <summary>True for types in namespace ShmKit or below (the embedded attributes the compiler adds are in System.* or Microsoft.*).</summary>
    internal bool IsProductType(TypeDefinitionHandle handle)
    {
        var type = Metadata.GetTypeDefinition(handle);
        while (type.GetDeclaringType() is { IsNil: false } outer)
        {
            type = Metadata.GetTypeDefinition(outer);
        }

        string ns = Metadata.GetString(type.Namespace);
        return ns == "ShmKit" || ns.StartsWith("ShmKit.", StringComparison.Ordinal);
    }

    /// <summary>True when the type can be seen from outside the assembly (public, and nested only in public types).</summary>
    internal bool IsVisibleOutside(TypeDefinitionHandle handle)
    {
        var type = Metadata.GetTypeDefinition(handle);
        TypeAttributes visibility = type.Attributes & TypeAttributes.VisibilityMask;
        return type.GetDeclaringType() is { IsNil: false } outer
            ? visibility is TypeAttributes.NestedPublic or TypeAttributes.NestedFamily or TypeAttributes.NestedFamORAssem && IsVisibleOutside(outer)
            : visibility == TypeAttributes.Public;
    }

    /// <summary>
    /// The source folders the type was compiled from: the first folder below src/ShmKit/ of each document its methods'
    /// sequence points (or, for types without method bodies, its TypeDefinitionDocuments) name. Documents outside
    /// the source tree (source generator output under obj/) do not count. Empty when no document names one.
    /// </summary>
    internal IReadOnlySet<string> Folders(TypeDefinitionHandle handle)
    {
        var folders = new HashSet<string>(StringComparer.Ordinal);
        var type = Metadata.GetTypeDefinition(handle);
        foreach (var method in type.GetMethods())
        {
            var debug = _pdb.GetMethodDebugInformation(method.ToDebugInformationHandle());
            if (!debug.Document.IsNil)
            {
                AddFolder(folders, debug.Document);
            }
            else if (!debug.SequencePointsBlob.IsNil)
            {
                foreach (var point in debug.GetSequencePoints())
                {
                    AddFolder(folders, point.Document);
                }
            }
        }

        foreach (var cdiHandle in _pdb.GetCustomDebugInformation(handle))
        {
            var cdi = _pdb.GetCustomDebugInformation(cdiHandle);
            if (_pdb.GetGuid(cdi.Kind) != s_typeDefinitionDocuments)
            {
                continue;
            }

            var blob = _pdb.GetBlobReader(cdi.Value);
            while (blob.RemainingBytes > 0)
            {
                AddFolder(folders, MetadataTokens.DocumentHandle(blob.ReadCompressedInteger()));
            }
        }

        return folders;
    }

    /// <summary>The source document paths of the type (for messages).</summary>
    internal string Documents(TypeDefinitionHandle handle) =>
        string.Join(", ", Metadata.GetTypeDefinition(handle).GetMethods()
            .Select(m => _pdb.GetMethodDebugInformation(m.ToDebugInformationHandle()).Document)
            .Where(d => !d.IsNil)
            .Select(d => _pdb.GetString(_pdb.GetDocument(d).Name))
            .Distinct());

    /// <summary>Every type of this assembly that <paramref name="handle"/>'s definition and code refer to, with where.</summary>
    internal IEnumerable<(TypeDefinitionHandle Target, string Where)> References(TypeDefinitionHandle handle)
    {
        var type = Metadata.GetTypeDefinition(handle);
        var found = new List<(TypeDefinitionHandle, string)>();
        void Add(IEnumerable<TypeDefinitionHandle> targets, string where) => found.AddRange(targets.Select(t => (t, where)));

        Add(Resolve(type.BaseType), "base type");
        foreach (var i in type.GetInterfaceImplementations())
        {
            Add(Resolve(Metadata.GetInterfaceImplementation(i).Interface), "interface");
        }

        foreach (var p in type.GetGenericParameters())
        {
            foreach (var c in Metadata.GetGenericParameter(p).GetConstraints())
            {
                Add(Resolve(Metadata.GetGenericParameterConstraint(c).Type), "generic constraint");
            }
        }

        Add(Attributes(type.GetCustomAttributes()), "attribute");
        foreach (var f in type.GetFields())
        {
            var field = Metadata.GetFieldDefinition(f);
            string where = "field " + Metadata.GetString(field.Name);
            Add(field.DecodeSignature(_collector, null), where);
            Add(Attributes(field.GetCustomAttributes()), where);
        }

        foreach (var p in type.GetProperties())
        {
            var property = Metadata.GetPropertyDefinition(p);
            var signature = property.DecodeSignature(_collector, null);
            Add(signature.ReturnType.Concat(signature.ParameterTypes.SelectMany(x => x)), "property " + Metadata.GetString(property.Name));
        }

        foreach (var m in type.GetMethods())
        {
            var method = Metadata.GetMethodDefinition(m);
            string where = "method " + Metadata.GetString(method.Name);
            var signature = method.DecodeSignature(_collector, null);
            Add(signature.ReturnType.Concat(signature.ParameterTypes.SelectMany(x => x)), where);
            Add(Attributes(method.GetCustomAttributes()), where);
            if (method.RelativeVirtualAddress == 0)
            {
                continue;
            }

            var body = _pe.GetMethodBody(method.RelativeVirtualAddress);
            if (!body.LocalSignature.IsNil)
            {
                var locals = Metadata.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(_collector, null);
                Add(locals.SelectMany(x => x), where + " (locals)");
            }

            foreach (var (_, token) in Tokens(body))
            {
                Add(Resolve(token), where + " (IL)");
            }
        }

        return found;
    }

    /// <summary>The opcode and metadata token of every IL instruction with a token operand in the type's method bodies.</summary>
    internal IEnumerable<(string Method, short OpCode, EntityHandle Token)> IlTokens(TypeDefinitionHandle handle)
    {
        foreach (var m in Metadata.GetTypeDefinition(handle).GetMethods())
        {
            var method = Metadata.GetMethodDefinition(m);
            if (method.RelativeVirtualAddress == 0)
            {
                continue;
            }

            foreach (var (opCode, token) in Tokens(_pe.GetMethodBody(method.RelativeVirtualAddress)))
            {
                yield return (Metadata.GetString(method.Name), opCode, token);
            }
        }
    }

    /// <summary>The methods that call into native code: DllImport (P/Invoke) methods and methods marked [LibraryImport].</summary>
    internal IEnumerable<string> NativeMethods(TypeDefinitionHandle handle)
    {
        foreach (var m in Metadata.GetTypeDefinition(handle).GetMethods())
        {
            var method = Metadata.GetMethodDefinition(m);
            bool pinvoke = (method.Attributes & System.Reflection.MethodAttributes.PinvokeImpl) != 0;
            bool libraryImport = method.GetCustomAttributes().Any(a => AttributeName(a) == "System.Runtime.InteropServices.LibraryImportAttribute");
            if (pinvoke || libraryImport)
            {
                yield return Metadata.GetString(method.Name);
            }
        }
    }

    /// <summary>"Namespace.Type::Member" for a member token (MemberReference, MethodDefinition, FieldDefinition).</summary>
    internal string MemberName(EntityHandle token)
    {
        switch (token.Kind)
        {
            case HandleKind.MemberReference:
            {
                var member = Metadata.GetMemberReference((MemberReferenceHandle)token);
                return ParentName(member.Parent) + "::" + Metadata.GetString(member.Name);
            }

            case HandleKind.MethodDefinition:
            {
                var method = Metadata.GetMethodDefinition((MethodDefinitionHandle)token);
                return Name(method.GetDeclaringType()) + "::" + Metadata.GetString(method.Name);
            }

            case HandleKind.MethodSpecification:
                return MemberName(Metadata.GetMethodSpecification((MethodSpecificationHandle)token).Method);
            case HandleKind.FieldDefinition:
            {
                var field = Metadata.GetFieldDefinition((FieldDefinitionHandle)token);
                return Name(field.GetDeclaringType()) + "::" + Metadata.GetString(field.Name);
            }

            default:
                return token.Kind.ToString();
        }
    }

    public void Dispose()
    {
        _pdbProvider.Dispose();
        _pe.Dispose();
    }

    private static IEnumerable<(short OpCode, EntityHandle Token)> Tokens(MethodBodyBlock body)
    {
        var il = body.GetILReader();
        while (il.RemainingBytes > 0)
        {
            short value = il.ReadByte();
            if (value == 0xFE)
            {
                value = unchecked((short)(0xFE00 | il.ReadByte()));
            }

            switch (s_operands[value])
            {
                case OperandType.InlineField:
                case OperandType.InlineMethod:
                case OperandType.InlineSig:
                case OperandType.InlineTok:
                case OperandType.InlineType:
                    yield return (value, MetadataTokens.EntityHandle(il.ReadInt32()));
                    break;
                case OperandType.InlineSwitch:
                    // Read the count first: `il.Offset += 4 * il.ReadInt32()` would add to the offset from before the read.
                    int targets = il.ReadInt32();
                    il.Offset += 4 * targets;
                    break;
                case OperandType.InlineI8:
                case OperandType.InlineR:
                    il.Offset += 8;
                    break;
                case OperandType.InlineBrTarget:
                case OperandType.InlineI:
                case OperandType.InlineString:
                case OperandType.ShortInlineR:
                    il.Offset += 4;
                    break;
                case OperandType.InlineVar:
                    il.Offset += 2;
                    break;
                case OperandType.ShortInlineBrTarget:
                case OperandType.ShortInlineI:
                case OperandType.ShortInlineVar:
                    il.Offset += 1;
                    break;
            }
        }
    }

    private void AddFolder(HashSet<string> folders, DocumentHandle document)
    {
        string path = _pdb.GetString(_pdb.GetDocument(document).Name).Replace('\\', '/');
        const string root = "/src/ShmKit/";
        int at = path.LastIndexOf(root, StringComparison.Ordinal);
        if (at < 0)
        {
            return;
        }

        string relative = path[(at + root.Length)..];
        int slash = relative.IndexOf('/', StringComparison.Ordinal);
        string folder = slash < 0 ? "(root)" : relative[..slash];
        if (folder is not ("obj" or "bin"))
        {
            folders.Add(folder);
        }
    }

    private string ParentName(EntityHandle parent) => parent.Kind switch
    {
        HandleKind.TypeDefinition => Name((TypeDefinitionHandle)parent),
        HandleKind.TypeReference => TypeReferenceName((TypeReferenceHandle)parent),
        HandleKind.TypeSpecification => "(generic instance)",
        _ => parent.Kind.ToString(),
    };

    private string TypeReferenceName(TypeReferenceHandle handle)
    {
        var reference = Metadata.GetTypeReference(handle);
        string ns = Metadata.GetString(reference.Namespace);
        string name = Metadata.GetString(reference.Name);
        return ns.Length == 0 ? name : ns + "." + name;
    }

    private string AttributeName(CustomAttributeHandle handle)
    {
        var constructor = Metadata.GetCustomAttribute(handle).Constructor;
        return constructor.Kind == HandleKind.MemberReference
            ? ParentName(Metadata.GetMemberReference((MemberReferenceHandle)constructor).Parent)
            : Name(Metadata.GetMethodDefinition((MethodDefinitionHandle)constructor).GetDeclaringType());
    }

    private IEnumerable<TypeDefinitionHandle> Attributes(CustomAttributeHandleCollection attributes) =>
        attributes.SelectMany(a => Resolve(Metadata.GetCustomAttribute(a).Constructor));

    /// <summary>The types of this assembly that a type, member or signature token names.</summary>
    private ImmutableArray<TypeDefinitionHandle> Resolve(EntityHandle token)
    {
        if (token.IsNil)
        {
            return [];
        }

        switch (token.Kind)
        {
            case HandleKind.TypeDefinition:
                return [(TypeDefinitionHandle)token];
            case HandleKind.TypeSpecification:
                return Metadata.GetTypeSpecification((TypeSpecificationHandle)token).DecodeSignature(_collector, null);
            case HandleKind.MethodDefinition:
                return [Metadata.GetMethodDefinition((MethodDefinitionHandle)token).GetDeclaringType()];
            case HandleKind.FieldDefinition:
                return [Metadata.GetFieldDefinition((FieldDefinitionHandle)token).GetDeclaringType()];
            case HandleKind.MethodSpecification:
            {
                var spec = Metadata.GetMethodSpecification((MethodSpecificationHandle)token);
                return [.. Resolve(spec.Method), .. spec.DecodeSignature(_collector, null).SelectMany(x => x)];
            }

            case HandleKind.MemberReference:
            {
                var member = Metadata.GetMemberReference((MemberReferenceHandle)token);
                ImmutableArray<TypeDefinitionHandle> signature = member.GetKind() == MemberReferenceKind.Method
                    ? member.DecodeMethodSignature(_collector, null) is var m ? [.. m.ReturnType, .. m.ParameterTypes.SelectMany(x => x)] : []
                    : member.DecodeFieldSignature(_collector, null);
                return [.. Resolve(member.Parent), .. signature];
            }

            case HandleKind.StandaloneSignature:
            {
                var sig = Metadata.GetStandaloneSignature((StandaloneSignatureHandle)token);
                if (sig.GetKind() != StandaloneSignatureKind.Method)
                {
                    return [];
                }

                var m = sig.DecodeMethodSignature(_collector, null);
                return [.. m.ReturnType, .. m.ParameterTypes.SelectMany(x => x)];
            }

            default:
                // TypeReference, ModuleReference and the like: outside this assembly.
                return [];
        }
    }

    /// <summary>Decodes a signature into the type definitions of this assembly it mentions (a type reference is another assembly's).</summary>
    private sealed class TypeCollector : ISignatureTypeProvider<ImmutableArray<TypeDefinitionHandle>, object?>
    {
        public ImmutableArray<TypeDefinitionHandle> GetPrimitiveType(PrimitiveTypeCode typeCode) => [];

        public ImmutableArray<TypeDefinitionHandle> GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => [handle];

        public ImmutableArray<TypeDefinitionHandle> GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => [];

        public ImmutableArray<TypeDefinitionHandle> GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);

        public ImmutableArray<TypeDefinitionHandle> GetSZArrayType(ImmutableArray<TypeDefinitionHandle> elementType) => elementType;

        public ImmutableArray<TypeDefinitionHandle> GetArrayType(ImmutableArray<TypeDefinitionHandle> elementType, ArrayShape shape) => elementType;

        public ImmutableArray<TypeDefinitionHandle> GetByReferenceType(ImmutableArray<TypeDefinitionHandle> elementType) => elementType;

        public ImmutableArray<TypeDefinitionHandle> GetPointerType(ImmutableArray<TypeDefinitionHandle> elementType) => elementType;

        public ImmutableArray<TypeDefinitionHandle> GetPinnedType(ImmutableArray<TypeDefinitionHandle> elementType) => elementType;

        public ImmutableArray<TypeDefinitionHandle> GetGenericInstantiation(ImmutableArray<TypeDefinitionHandle> genericType, ImmutableArray<ImmutableArray<TypeDefinitionHandle>> typeArguments) =>
            [.. genericType, .. typeArguments.SelectMany(x => x)];

        public ImmutableArray<TypeDefinitionHandle> GetGenericMethodParameter(object? genericContext, int index) => [];

        public ImmutableArray<TypeDefinitionHandle> GetGenericTypeParameter(object? genericContext, int index) => [];

        public ImmutableArray<TypeDefinitionHandle> GetFunctionPointerType(MethodSignature<ImmutableArray<TypeDefinitionHandle>> signature) =>
            [.. signature.ReturnType, .. signature.ParameterTypes.SelectMany(x => x)];

        public ImmutableArray<TypeDefinitionHandle> GetModifiedType(ImmutableArray<TypeDefinitionHandle> modifier, ImmutableArray<TypeDefinitionHandle> unmodifiedType, bool isRequired) =>
            [.. modifier, .. unmodifiedType];
    }
}
