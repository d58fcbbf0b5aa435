using System.Globalization;
using Npgsql;

namespace Hardening.Fsm.Tests.Conditions;

/// <summary>
/// The condition helpers against truth tables written by hand from the documented semantics (two-valued and
/// null-safe: <c>EqualTo(null)</c> matches null, <c>NotEqualTo(v)</c> matches null, an ordering comparison with null is
/// false, and <c>!</c> of any of them is its plain negation). The C# predicate and the SQL, run by PostgreSQL on rows
/// holding real NULLs, must each match the table: parity between the two would not catch a bug made on both sides.
/// </summary>
public sealed class ConditionTruthTableTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static readonly StateMachineBuilder<Probe> Fields = new("truth", _ => "p");
    private static readonly EntityField<bool> B = Fields.Field(p => p.B, "b");
    private static readonly EntityField<bool?> NB = Fields.Field(p => p.NB, "nb");
    private static readonly EntityField<int?> NI = Fields.Field(p => p.NI, "ni");
    private static readonly EntityField<decimal?> ND = Fields.Field(p => p.ND, "nd");
    private static readonly EntityField<string?> S = Fields.Field(p => p.S, "s");
    private static readonly EntityField<Guid?> NG = Fields.Field(p => p.NG, "ng");
    private static readonly Guid G1 = new("6a1f4f0e-6c1c-4b6e-9d53-1f1f1f1f1f1f");

    /// <summary>One row per value of the field under test (the other fields stay at their defaults).</summary>
    private static readonly (string Name, Func<Condition> Condition, Probe[] Rows, bool[] Expected)[] Tables =
    [
        ("B.IsTrue", () => B.IsTrue(), [new() { B = true }, new() { B = false }], [true, false]),
        ("B.IsFalse", () => B.IsFalse(), [new() { B = true }, new() { B = false }], [false, true]),
        ("!B.IsTrue", () => !B.IsTrue(), [new() { B = true }, new() { B = false }], [false, true]),
        ("B.IsNull (never, the column is NOT NULL)", () => B.IsNull(), [new() { B = true }, new() { B = false }], [false, false]),
        ("B.NotEqualTo(true)", () => B.NotEqualTo(true), [new() { B = true }, new() { B = false }], [false, true]),
        ("NB.IsTrue", () => NB.IsTrue(), NullableBools(), [true, false, false]),
        ("NB.IsFalse", () => NB.IsFalse(), NullableBools(), [false, true, false]),
        ("!NB.IsTrue", () => !NB.IsTrue(), NullableBools(), [false, true, true]),
        ("!NB.IsFalse", () => !NB.IsFalse(), NullableBools(), [true, false, true]),
        ("NB.NotEqualTo(true)", () => NB.NotEqualTo(true), NullableBools(), [false, true, true]),
        ("NB.NotEqualTo(false)", () => NB.NotEqualTo(false), NullableBools(), [true, false, true]),
        ("NB.EqualTo(null)", () => NB.EqualTo(null), NullableBools(), [false, false, true]),
        ("NB.NotEqualTo(null)", () => NB.NotEqualTo(null), NullableBools(), [true, true, false]),
        ("NB.IsNull", () => NB.IsNull(), NullableBools(), [false, false, true]),
        ("NB.IsNotNull", () => NB.IsNotNull(), NullableBools(), [true, true, false]),
        ("NB.IsTrue | NB.IsFalse", () => NB.IsTrue() | NB.IsFalse(), NullableBools(), [true, true, false]),
        ("NI.EqualTo(1)", () => NI.EqualTo(1), Ints(), [false, true, false, false]),
        ("NI.NotEqualTo(1)", () => NI.NotEqualTo(1), Ints(), [true, false, true, true]),
        ("NI.LessThan(1)", () => NI.LessThan(1), Ints(), [true, false, false, false]),
        ("NI.LessThanOrEqualTo(1)", () => NI.LessThanOrEqualTo(1), Ints(), [true, true, false, false]),
        ("NI.GreaterThan(1)", () => NI.GreaterThan(1), Ints(), [false, false, true, false]),
        ("NI.GreaterThanOrEqualTo(1)", () => NI.GreaterThanOrEqualTo(1), Ints(), [false, true, true, false]),
        ("!NI.LessThan(1)", () => !NI.LessThan(1), Ints(), [false, true, true, true]),
        ("!NI.GreaterThanOrEqualTo(1)", () => !NI.GreaterThanOrEqualTo(1), Ints(), [true, false, false, true]),
        ("ND.GreaterThan(0.5)", () => ND.GreaterThan(0.5m), Decimals(), [false, false, true, false]),
        ("ND.EqualTo(0.5)", () => ND.EqualTo(0.5m), Decimals(), [false, true, false, false]),
        ("ND.NotEqualTo(0.50)", () => ND.NotEqualTo(0.50m), Decimals(), [true, false, true, true]),
        ("S.EqualTo(a)", () => S.EqualTo("a"), Strings(), [true, false, false, false, false]),
        ("S.NotEqualTo(a)", () => S.NotEqualTo("a"), Strings(), [false, true, true, true, true]),
        ("S.EqualTo(empty)", () => S.EqualTo(""), Strings(), [false, false, true, false, false]),
        ("S.EqualTo(it's)", () => S.EqualTo("it's"), Strings(), [false, false, false, true, false]),
        ("S.EqualTo(null)", () => S.EqualTo(null), Strings(), [false, false, false, false, true]),
        ("S.NotEqualTo(null)", () => S.NotEqualTo(null), Strings(), [true, true, true, true, false]),
        ("NG.EqualTo(G1)", () => NG.EqualTo(G1), Guids(), [true, false, false]),
        ("NG.NotEqualTo(G1)", () => NG.NotEqualTo(G1), Guids(), [false, true, true]),
        ("True & NB.IsTrue", () => Condition.True & NB.IsTrue(), NullableBools(), [true, false, false]),
        ("False | NB.IsNull", () => Condition.False | NB.IsNull(), NullableBools(), [false, false, true]),
        ("!False", () => !Condition.False, NullableBools(), [true, true, true]),
    ];

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var t in Tables)
        {
            data.Add(t.Name);
        }

        return data;
    }

    private static Probe[] NullableBools() => [new() { NB = true }, new() { NB = false }, new() { NB = null }];

    private static Probe[] Ints() => [new() { NI = 0 }, new() { NI = 1 }, new() { NI = 2 }, new() { NI = null }];

    private static Probe[] Decimals() => [new() { ND = 0m }, new() { ND = 0.50m }, new() { ND = 1m }, new() { ND = null }];

    private static Probe[] Strings() => [new() { S = "a" }, new() { S = "A" }, new() { S = "" }, new() { S = "it's" }, new() { S = null }];

    private static Probe[] Guids() => [new() { NG = G1 }, new() { NG = Guid.Empty }, new() { NG = null }];

    [Theory]
    [MemberData(nameof(Names))]
    public void Compiled_predicate_matches_the_truth_table(string name)
    {
        var (_, condition, rows, expected) = Tables.Single(t => t.Name == name);
        var predicate = ConditionCompiler.Compile<Probe>(condition());
        Assert.Equal(expected, rows.Select(predicate));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Sql_run_by_postgresql_matches_the_truth_table(string name)
    {
        var (_, condition, rows, expected) = Tables.Single(t => t.Name == name);
        var sql = ConditionCompiler.ToSql(condition(), "t.");
        var values = string.Join(", ", rows.Select((p, n) =>
            $"({n}, {Lit(p.B)}, {Lit(p.NB)}::boolean, {Lit(p.NI)}::integer, {Lit(p.ND)}::numeric, {Lit(p.S)}::text, {Lit(p.NG)}::uuid)"));
        using var conn = new NpgsqlConnection(postgres.Server.ForDatabase("postgres"));
        conn.Open();
        using var cmd = new NpgsqlCommand($"SELECT {sql} FROM (VALUES {values}) AS t(n, b, nb, ni, nd, s, ng) ORDER BY n", conn);
        using var r = cmd.ExecuteReader();
        var actual = new List<bool>();
        while (r.Read())
        {
            Assert.False(r.IsDBNull(0), $"{sql} is NULL (three-valued) on row {actual.Count}");
            actual.Add(r.GetBoolean(0));
        }

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Conditions_render_readably()
    {
        Assert.Equal("nb = true", NB.IsTrue().ToString());
        Assert.Equal("nb = false", NB.IsFalse().ToString());
        Assert.Equal("not nb is null", NB.IsNotNull().ToString());
        Assert.Equal("nb is null", NB.EqualTo(null).ToString());
        Assert.Equal("not nb is null", NB.NotEqualTo(null).ToString());
        Assert.Equal("s is null", S.EqualTo(null).ToString());
        Assert.Equal("(ni <> 1 and (ni < 1 or ni <= 1))", (NI.NotEqualTo(1) & (NI.LessThan(1) | NI.LessThanOrEqualTo(1))).ToString());
        Assert.Equal("(ni > 1 and ni >= 2)", Condition.And(NI.GreaterThan(1), NI.GreaterThanOrEqualTo(2)).ToString());
        Assert.Equal("(s = 'it''s' or nd = 0.5)", Condition.Or(S.EqualTo("it's"), ND.EqualTo(0.5m)).ToString());
        Assert.Equal("not (true and false)", Condition.LogicalNot(Condition.BitwiseAnd(Condition.True, Condition.False)).ToString());
        Assert.Equal("(ng = 6a1f4f0e-6c1c-4b6e-9d53-1f1f1f1f1f1f or b = true)", Condition.BitwiseOr(NG.EqualTo(G1), B.IsTrue()).ToString());
    }

    [Fact]
    public void Sql_quotes_literals_and_columns()
    {
        Assert.Equal("(t.\"s\" IS NOT DISTINCT FROM 'it''s')", ConditionCompiler.ToSql(S.EqualTo("it's"), "t."));
        Assert.Equal("(NOT (t.\"ni\" IS NULL))", ConditionCompiler.ToSql(NI.IsNotNull(), "t."));
        Assert.Equal("COALESCE(\"ni\" >= 2, false)", ConditionCompiler.ToSql(NI.GreaterThanOrEqualTo(2), ""));
    }

    [Fact]
    public void Helpers_refuse_null_fields()
    {
        Assert.Throws<ArgumentNullException>(() => ((EntityField<bool>)null!).IsTrue());
        Assert.Throws<ArgumentNullException>(() => ((EntityField<bool>)null!).IsFalse());
        Assert.Throws<ArgumentNullException>(() => ((EntityField<bool?>)null!).IsTrue());
        Assert.Throws<ArgumentNullException>(() => ((EntityField<bool?>)null!).IsFalse());
        Assert.Throws<ArgumentNullException>(() => Condition.And(null!, Condition.True));
        Assert.Throws<ArgumentNullException>(() => Condition.And(Condition.True, null!));
        Assert.Throws<ArgumentNullException>(() => Condition.Or(null!, Condition.True));
        Assert.Throws<ArgumentNullException>(() => Condition.Or(Condition.True, null!));
        Assert.Throws<ArgumentNullException>(() => Condition.Not(null!));
        Assert.Throws<ArgumentNullException>(() => NI.LessThan(null));
        var e = Assert.Throws<InvalidOperationException>(() => S.GreaterThan("a"));
        Assert.Equal("Field 's' has type String; ordering comparisons are only defined for int, long and decimal fields (string ordering depends on the database collation). Use EqualTo/NotEqualTo instead.", e.Message);
    }

    private static string Lit(object? v) => v switch
    {
        null => "NULL",
        bool b => b ? "true" : "false",
        string s => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'",
        Guid g => "'" + g + "'",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => throw new ArgumentException("unsupported", nameof(v)),
    };
}
