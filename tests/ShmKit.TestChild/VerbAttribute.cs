namespace ShmKit.TestChild;

/// <summary>Marks a <c>static int Method(string[] args)</c> as a verb of the child program.</summary>
/// <param name="name">The verb's name on the command line.</param>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class VerbAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}
