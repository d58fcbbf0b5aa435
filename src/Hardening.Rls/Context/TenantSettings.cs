using System.Globalization;
using System.Text;

namespace Hardening.Rls;

/// <summary>Validation of setting names and context values, with messages that say what is wrong.</summary>
internal static class TenantSettings
{
    private const int MaxIdentifier = 63;

    /// <summary>Throws unless <paramref name="name"/> is <c>identifier.identifier</c> (letters, digits, '_'; no leading digit).</summary>
    public static void ValidateName(string? name, string role, string paramName)
    {
        const string Fix = "use letters, digits and '_' with exactly one '.' such as 'app.tenant_id'";
        if (string.IsNullOrEmpty(name))
        {
            throw new ArgumentException($"The {role} setting name is empty; {Fix}.", paramName);
        }

        var dot = name.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0 || dot != name.LastIndexOf('.'))
        {
            throw new ArgumentException($"Setting name '{Printable(name)}' ({role}) is not a valid PostgreSQL custom setting: it needs exactly one '.'; {Fix}.", paramName);
        }

        if (!IsIdentifier(name.AsSpan(0, dot)) || !IsIdentifier(name.AsSpan(dot + 1)))
        {
            throw new ArgumentException($"Setting name '{Printable(name)}' ({role}) is not a valid PostgreSQL custom setting; {Fix} (each part 1-{MaxIdentifier} characters, not starting with a digit).", paramName);
        }
    }

    /// <summary>Throws unless <paramref name="value"/> can be carried exactly by a setting.</summary>
    public static void ValidateValue(string value, string role, string paramName, int maxLength, bool allowComma = true)
    {
        if (value.Length > maxLength)
        {
            throw new ArgumentException($"The {role} is {value.Length} characters long; the limit is {maxLength} (TenantDataSourceOptions.MaxValueLength).", paramName);
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\0')
            {
                throw new ArgumentException($"The {role} contains a NUL character at index {i}; PostgreSQL text cannot hold NUL, so the value would not arrive intact.", paramName);
            }

            if (char.IsHighSurrogate(c) && (i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1])))
            {
                throw new ArgumentException($"The {role} contains an unpaired UTF-16 surrogate at index {i}; it cannot be encoded as UTF-8 without changing the value.", paramName);
            }

            if (char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(value[i - 1])))
            {
                throw new ArgumentException($"The {role} contains an unpaired UTF-16 surrogate at index {i}; it cannot be encoded as UTF-8 without changing the value.", paramName);
            }

            if (!allowComma && c == ',')
            {
                throw new ArgumentException($"The {role} '{Printable(value)}' contains ',', which separates roles in the roles setting.", paramName);
            }
        }
    }

    private static bool IsIdentifier(ReadOnlySpan<char> part)
    {
        if (part.Length is 0 or > MaxIdentifier || char.IsAsciiDigit(part[0]))
        {
            return false;
        }

        foreach (var c in part)
        {
            if (!(char.IsAsciiLetter(c) || char.IsAsciiDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }

    internal static string Printable(string value)
    {
        var sb = new StringBuilder(Math.Min(value.Length, 80));
        foreach (var c in value.Length > 80 ? value[..80] : value)
        {
            sb.Append(char.IsControl(c) ? string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}") : c.ToString());
        }

        return value.Length > 80 ? sb.Append("...").ToString() : sb.ToString();
    }
}
