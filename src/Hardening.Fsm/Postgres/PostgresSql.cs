using System.Globalization;
using System.Text.RegularExpressions;

namespace Hardening.Fsm;

/// <summary>Identifier and literal rendering for the generated SQL.</summary>
internal static partial class PostgresSql
{
    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public static string Literal(object? value) => value switch
    {
        null => "NULL",
        bool b => b ? "true" : "false",
        string s when s.Contains('\0', StringComparison.Ordinal) => throw new ArgumentException("PostgreSQL text cannot hold a NUL character.", nameof(value)),
        string s => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'",
        Guid g => "'" + g.ToString("D") + "'::uuid",
        int i => i.ToString(CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture),
        decimal d => d.ToString(CultureInfo.InvariantCulture),
        _ => throw new ArgumentException($"No SQL literal for {value.GetType().Name}.", nameof(value)),
    };

    public static void RequireIdentifier(string value, string role)
    {
        if (!IdentifierPattern().IsMatch(value))
        {
            throw new ArgumentException($"{role} '{value}' is not a plain PostgreSQL identifier; use lower-case letters, digits and '_' starting with a letter or '_' (at most 63 characters), such as 'candidates'.", role);
        }
    }

    public static void RequireSetting(string value, string role)
    {
        if (!SettingPattern().IsMatch(value))
        {
            throw new ArgumentException($"{role} '{value}' is not a valid PostgreSQL custom setting; use letters, digits and '_' with one '.' such as 'app.actor_id'.", role);
        }
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex IdentifierPattern();

    [GeneratedRegex("^[a-z_][a-z0-9_]*\\.[a-z_][a-z0-9_]*$")]
    private static partial Regex SettingPattern();
}
