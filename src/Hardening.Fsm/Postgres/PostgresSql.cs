using System.Globalization;
using Hardening.Shared;

namespace Hardening.Fsm;

/// <summary>Literals of entity field values for the generated SQL (names and strings: <see cref="PostgresNames"/>).</summary>
internal static class PostgresSql
{
    public static string Literal(object? value) => value switch
    {
        null => "NULL",
        bool b => b ? "true" : "false",
        string s => PostgresNames.Literal(s),
        Guid g => "'" + g.ToString("D") + "'::uuid",
        int i => i.ToString(CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture),
        decimal d => d.ToString(CultureInfo.InvariantCulture),
        _ => throw new ArgumentException($"No SQL literal for {value.GetType().Name}.", nameof(value)),
    };
}
