using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Hardening.Shared;

/// <summary>
/// PostgreSQL names in generated SQL (shared source, compiled into Hardening.Rls and Hardening.Fsm): plain
/// identifiers, custom setting names, quoting and literals. Every check names the bad value's role and the fix.
/// </summary>
internal static class PostgresNames
{
    /// <summary>PostgreSQL's NAMEDATALEN - 1: longer identifiers are silently truncated.</summary>
    public const int MaxIdentifier = 63;

    private const string SettingFix = "use letters, digits and '_' with exactly one '.' such as 'app.tenant_id'";

    /// <summary>
    /// Returns <paramref name="name"/> when it is a plain identifier (1-63 lower-case ASCII letters, digits and '_',
    /// not starting with a digit), which reads the same quoted or not; otherwise throws naming <paramref name="role"/>.
    /// </summary>
    public static string PlainIdentifier(string? name, string role, string paramName, string example = "jobs")
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new ArgumentException($"The {role} name is empty; use 1-{MaxIdentifier} lower-case letters, digits and '_', such as '{example}'.", paramName);
        }

        if (!IsPlainIdentifier(name))
        {
            throw new ArgumentException(
                $"The {role} name '{Printable(name)}' is not a plain PostgreSQL identifier; use 1-{MaxIdentifier} lower-case letters, digits and '_', not starting with a digit, such as '{example}' (generated SQL relies on names that need no quoting).",
                paramName);
        }

        return name;
    }

    /// <summary>
    /// PostgreSQL 15's key words that are not unreserved (reserved, type/function-name and column-name key words, as
    /// listed by <c>pg_get_keywords()</c> with a category other than U): unquoted, they are refused or mean something
    /// else where a plain name stands alone (a role, a schema, a column, a policy), and <c>quote_ident</c> quotes them.
    /// </summary>
    private static readonly System.Collections.Frozen.FrozenSet<string> NonUnreservedKeywords = System.Collections.Frozen.FrozenSet.ToFrozenSet(
    [
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization",
        "between", "bigint", "binary", "bit", "boolean", "both", "case", "cast", "char", "character", "check",
        "coalesce", "collate", "collation", "column", "concurrently", "constraint", "create", "cross",
        "current_catalog", "current_date", "current_role", "current_schema", "current_time",
        "current_timestamp", "current_user", "dec", "decimal", "default", "deferrable", "desc", "distinct",
        "do", "else", "end", "except", "exists", "extract", "false", "fetch", "float", "for", "foreign",
        "freeze", "from", "full", "grant", "greatest", "group", "grouping", "having", "ilike", "in",
        "initially", "inner", "inout", "int", "integer", "intersect", "interval", "into", "is", "isnull",
        "join", "lateral", "leading", "least", "left", "like", "limit", "localtime", "localtimestamp",
        "national", "natural", "nchar", "none", "normalize", "not", "notnull", "null", "nullif", "numeric",
        "offset", "on", "only", "or", "order", "out", "outer", "overlaps", "overlay", "placing", "position",
        "precision", "primary", "real", "references", "returning", "right", "row", "select", "session_user",
        "setof", "similar", "smallint", "some", "substring", "symmetric", "table", "tablesample", "then",
        "time", "timestamp", "to", "trailing", "treat", "trim", "true", "union", "unique", "user", "using",
        "values", "varchar", "variadic", "verbose", "when", "where", "window", "with", "xmlattributes",
        "xmlconcat", "xmlelement", "xmlexists", "xmlforest", "xmlnamespaces", "xmlparse", "xmlpi", "xmlroot",
        "xmlserialize", "xmltable"
    ], StringComparer.Ordinal);

    /// <summary>
    /// Returns <paramref name="name"/> when it is a plain identifier (see <see cref="PlainIdentifier"/>) that is also no
    /// PostgreSQL key word other than an unreserved one, so it can stand alone unquoted (a role, schema, column or
    /// policy name); otherwise throws naming <paramref name="role"/>.
    /// </summary>
    public static string UnquotedIdentifier(string? name, string role, string paramName, string example = "jobs")
    {
        PlainIdentifier(name, role, paramName, example);
        if (NonUnreservedKeywords.Contains(name!))
        {
            throw new ArgumentException(
                $"The {role} name '{name}' is a PostgreSQL key word that cannot stand unquoted as a name; choose another name such as '{example}' (generated SQL relies on names that need no quoting).",
                paramName);
        }

        return name!;
    }

    /// <summary>
    /// A plain identifier (see <see cref="PlainIdentifier"/>) as PostgreSQL's <c>quote_ident</c> writes it: quoted when
    /// it is a key word other than an unreserved one, as is otherwise. For names that may be key words (tables, views,
    /// partitions, functions): even schema-qualified, some cannot stand unquoted everywhere (PL/pgSQL reads a table
    /// named <c>into</c> in a statement inside a <c>DO</c> block as its own INTO clause).
    /// </summary>
    public static string Identifier(string plainIdentifier) =>
        NonUnreservedKeywords.Contains(plainIdentifier) ? Quote(plainIdentifier) : plainIdentifier;

    /// <summary>True for 1-63 lower-case ASCII letters, digits and '_', not starting with a digit.</summary>
    public static bool IsPlainIdentifier(ReadOnlySpan<char> name) => IsIdentifier(name, lowerCaseOnly: true);

    /// <summary>
    /// Returns <paramref name="name"/> when it is a custom setting PostgreSQL accepts in <c>set_config</c> and
    /// <c>current_setting</c> (<c>prefix.name</c>, each part letters, digits and '_', not starting with a digit);
    /// otherwise throws naming <paramref name="role"/>. Such a name is also safe inside a SQL string literal.
    /// </summary>
    public static string SettingName(string? name, string role, string paramName)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new ArgumentException($"The {role} setting name is empty; {SettingFix}.", paramName);
        }

        var dot = name.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0 || dot != name.LastIndexOf('.'))
        {
            throw new ArgumentException($"Setting name '{Printable(name)}' ({role}) is not a valid PostgreSQL custom setting: it needs exactly one '.'; {SettingFix}.", paramName);
        }

        if (!IsIdentifier(name.AsSpan(0, dot), lowerCaseOnly: false) || !IsIdentifier(name.AsSpan(dot + 1), lowerCaseOnly: false))
        {
            throw new ArgumentException($"Setting name '{Printable(name)}' ({role}) is not a valid PostgreSQL custom setting; {SettingFix} (each part 1-{MaxIdentifier} characters, not starting with a digit).", paramName);
        }

        return name;
    }

    /// <summary>A double-quoted identifier (embedded quotes doubled).</summary>
    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>A standard-conforming string literal (embedded quotes doubled); refuses NUL, which text cannot hold.</summary>
    public static string Literal(string value)
    {
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("PostgreSQL text cannot hold a NUL character.", nameof(value));
        }

        return "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    /// <summary>A constraint or index name of at most 63 characters, stable for the same parts (a hash replaces the tail).</summary>
    public static string Derived(params string[] parts)
    {
        var name = string.Join('_', parts);
        if (name.Length <= MaxIdentifier)
        {
            return name;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..8];
        return name[..(MaxIdentifier - 9)] + "_" + hash;
    }

    /// <summary>The value for an error message: control characters escaped, cut at 80 characters.</summary>
    public static string Printable(string value)
    {
        var sb = new StringBuilder(Math.Min(value.Length, 80));
        foreach (var c in value.Length > 80 ? value[..80] : value)
        {
            sb.Append(char.IsControl(c) ? string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}") : c.ToString());
        }

        return value.Length > 80 ? sb.Append("...").ToString() : sb.ToString();
    }

    private static bool IsIdentifier(ReadOnlySpan<char> part, bool lowerCaseOnly)
    {
        if (part.Length is 0 or > MaxIdentifier || char.IsAsciiDigit(part[0]))
        {
            return false;
        }

        foreach (var c in part)
        {
            if (!((lowerCaseOnly ? char.IsAsciiLetterLower(c) : char.IsAsciiLetter(c)) || char.IsAsciiDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }
}
