using System.Security.Cryptography;
using System.Text;

namespace Hardening.Rls;

/// <summary>Identifier checks for generated SQL: only plain lower-case identifiers are accepted, so nothing needs quoting.</summary>
internal static class SqlNames
{
    public static string Check(string? name, string role, string paramName)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new ArgumentException($"The {role} name is empty; use 1-63 lower-case letters, digits and '_'.", paramName);
        }

        var ok = name.Length <= 63 && (char.IsAsciiLetterLower(name[0]) || name[0] == '_');
        foreach (var c in name)
        {
            ok &= char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_';
        }

        if (!ok)
        {
            throw new ArgumentException(
                $"The {role} name '{TenantSettings.Printable(name)}' is not a plain PostgreSQL identifier; use 1-63 lower-case letters, digits and '_', not starting with a digit (the generator emits names unquoted).",
                paramName);
        }

        return name;
    }

    /// <summary>A constraint or index name of at most 63 bytes, stable for the same parts.</summary>
    public static string Derived(params string[] parts)
    {
        var name = string.Join('_', parts);
        if (name.Length <= 63)
        {
            return name;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..8];
        return name[..(63 - 9)] + "_" + hash;
    }

    public static string Literal(string checkedName) => "'" + checkedName + "'";
}
