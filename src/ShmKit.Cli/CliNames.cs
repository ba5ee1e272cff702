using System.Globalization;
using System.Text;

namespace ShmKit.Cli;

/// <summary>User and group names for ids, read from /etc/passwd and /etc/group (as ipcs shows them); the number when unknown.</summary>
internal static class CliNames
{
    private static readonly Lazy<Dictionary<uint, string>> s_users = new(() => Load("/etc/passwd"));
    private static readonly Lazy<Dictionary<uint, string>> s_groups = new(() => Load("/etc/group"));

    /// <summary>The user name, or the uid as a number.</summary>
    internal static string User(uint uid) => s_users.Value.TryGetValue(uid, out string? name) ? name : uid.ToString(CultureInfo.InvariantCulture);

    /// <summary>The group name, or the gid as a number.</summary>
    internal static string Group(uint gid) => s_groups.Value.TryGetValue(gid, out string? name) ? name : gid.ToString(CultureInfo.InvariantCulture);

    private static Dictionary<uint, string> Load(string path)
    {
        var names = new Dictionary<uint, string>();
        try
        {
            foreach (string line in File.ReadLines(path, Encoding.UTF8))
            {
                // name:password:id:...
                string[] fields = line.Split(':');
                if (fields.Length >= 3 && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out uint id))
                {
                    names.TryAdd(id, fields[0]);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No names: numbers are shown instead.
        }

        return names;
    }
}
