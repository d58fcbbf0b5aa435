using System.Globalization;
using System.Text;

namespace Hardening.Shared;

/// <summary>
/// Transaction-local settings (shared source, compiled into Hardening.Rls and Hardening.Fsm): the one
/// <c>SELECT set_config(...)</c> statement that sets them with bound positional parameters, the binding that ties
/// values to the transaction that set them, and the checks a value must pass to arrive intact.
/// </summary>
internal static class PostgresSettings
{
    /// <summary>
    /// <c>SELECT set_config('a', $1, true), set_config('b', $2, true), ...</c> for <paramref name="names"/> (already
    /// checked with <see cref="PostgresNames.SettingName"/>, so safe as literals), parameters numbered from
    /// <paramref name="firstParameter"/>. With <paramref name="binding"/>, that setting is also set to
    /// <see cref="Binding"/> of the values from <paramref name="bindFrom"/> (0-based index into <paramref name="names"/>) on.
    /// </summary>
    public static string SetConfigStatement(IReadOnlyList<string> names, string? binding = null, int bindFrom = 0, int firstParameter = 1)
    {
        var sb = new StringBuilder("SELECT ");
        for (var i = 0; i < names.Count; i++)
        {
            sb.Append(i == 0 ? "" : ", ").Append("set_config('").Append(names[i]).Append("', $")
              .Append((firstParameter + i).ToString(CultureInfo.InvariantCulture)).Append(", true)");
        }

        if (binding is not null)
        {
            var bound = Enumerable.Range(firstParameter + bindFrom, names.Count - bindFrom).Select(p => "$" + p.ToString(CultureInfo.InvariantCulture) + "::text");
            sb.Append(", set_config('").Append(binding).Append("', ").Append(Binding(bound)).Append(", true)");
        }

        return sb.ToString();
    }

    /// <summary>
    /// The SQL value that binds <paramref name="values"/> (SQL expressions) to the current transaction: its id and
    /// each value as a quoted literal. A trigger compares the stored binding with the same expression over the
    /// current settings, so values left by an earlier transaction or changed afterwards do not match.
    /// </summary>
    public static string Binding(IEnumerable<string> values)
    {
        var list = values.ToList();
        return $"format('%s{string.Concat(Enumerable.Repeat(" %L", list.Count))}', pg_catalog.pg_current_xact_id(), {string.Join(", ", list)})";
    }

    /// <summary>
    /// Throws unless <paramref name="value"/> can be carried exactly by a setting: at most <paramref name="maxLength"/>
    /// characters, no NUL (text cannot hold it), no unpaired surrogate (UTF-8 would change it) and, for list
    /// members, no ','.
    /// </summary>
    public static void ValidateValue(string value, string role, string paramName, int maxLength, string lengthOption, bool allowComma = true)
    {
        if (value.Length > maxLength)
        {
            throw new ArgumentException($"The {role} is {value.Length} characters long; the limit is {maxLength} ({lengthOption}).", paramName);
        }

        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\0')
            {
                throw new ArgumentException($"The {role} contains a NUL character at index {i}; PostgreSQL text cannot hold NUL, so the value would not arrive intact.", paramName);
            }

            if ((char.IsHighSurrogate(c) && (i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1])))
                || (char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(value[i - 1]))))
            {
                throw new ArgumentException($"The {role} contains an unpaired UTF-16 surrogate at index {i}; it cannot be encoded as UTF-8 without changing the value.", paramName);
            }

            if (!allowComma && c == ',')
            {
                throw new ArgumentException($"The {role} '{PostgresNames.Printable(value)}' contains ',', which separates roles in the roles setting.", paramName);
            }
        }
    }
}
