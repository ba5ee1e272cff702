using System.Globalization;
using System.Text;

namespace ShmKit.Cli;

/// <summary>
/// User and group names for ids, and ids for names, read from /etc/passwd and /etc/group (as ipcs shows them and
/// chown reads them); the number when unknown.
/// </summary>
internal static class CliNames
{
    private static readonly Lazy<List<string[]>> s_users = new(() => Load("/etc/passwd"));
    private static readonly Lazy<List<string[]>> s_groups = new(() => Load("/etc/group"));

    /// <summary>The user name, or the uid as a number.</summary>
    internal static string User(uint uid) => NameOf(s_users.Value, uid);

    /// <summary>The group name, or the gid as a number.</summary>
    internal static string Group(uint gid) => NameOf(s_groups.Value, gid);

    /// <summary>The uid of a user name or number, or null when there is no such user.</summary>
    internal static uint? FindUser(string nameOrNumber) => IdOf(s_users.Value, nameOrNumber);

    /// <summary>The gid of a group name or number, or null when there is no such group.</summary>
    internal static uint? FindGroup(string nameOrNumber) => IdOf(s_groups.Value, nameOrNumber);

    /// <summary>The login group (the gid in /etc/passwd) of <paramref name="uid"/>, or null when unknown.</summary>
    internal static uint? LoginGroup(uint uid) =>
        s_users.Value.FirstOrDefault(f => f.Length >= 4 && Id(f) == uid) is { } fields && uint.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out uint gid)
            ? gid
            : null;

    private static string NameOf(List<string[]> entries, uint id) =>
        entries.FirstOrDefault(f => Id(f) == id) is { } fields ? fields[0] : id.ToString(CultureInfo.InvariantCulture);

    private static uint? IdOf(List<string[]> entries, string nameOrNumber) =>
        entries.FirstOrDefault(f => f[0] == nameOrNumber) is { } fields ? Id(fields)
        : uint.TryParse(nameOrNumber, NumberStyles.None, CultureInfo.InvariantCulture, out uint id) ? id
        : null;

    private static uint? Id(string[] fields) =>
        uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out uint id) ? id : null;

    /// <summary>The lines of a passwd-format file (name:password:id:...) split at ':', those with at least 3 fields.</summary>
    private static List<string[]> Load(string path)
    {
        var entries = new List<string[]>();
        try
        {
            foreach (string line in File.ReadLines(path, Encoding.UTF8))
            {
                string[] fields = line.Split(':');
                if (fields.Length >= 3 && Id(fields) is not null)
                {
                    entries.Add(fields);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No names: numbers are shown instead.
        }

        return entries;
    }
}
