using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Npgsql;

namespace Hardening.Fsm.Tests.Conditions;

public sealed class Probe : StatefulEntity
{
    public Probe()
        : base("ANY")
    {
    }

    public bool B { get; set; }

    public bool? NB { get; set; }

    public int I { get; set; }

    public int? NI { get; set; }

    public long L { get; set; }

    public decimal? ND { get; set; }

    public string? S { get; set; }

    public Guid? NG { get; set; }
}

/// <summary>The same condition, compiled to C# and rendered to SQL, gives the same answer on the same values (nulls included).</summary>
public sealed class ConditionParityTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static readonly StateMachineBuilder<Probe> Fields = new("probe", _ => "p");
    private static readonly EntityField<bool> B = Fields.Field(p => p.B, "b");
    private static readonly EntityField<bool?> NB = Fields.Field(p => p.NB, "nb");
    private static readonly EntityField<int> I = Fields.Field(p => p.I, "i");
    private static readonly EntityField<int?> NI = Fields.Field(p => p.NI, "ni");
    private static readonly EntityField<long> L = Fields.Field(p => p.L, "l");
    private static readonly EntityField<decimal?> ND = Fields.Field(p => p.ND, "nd");
    private static readonly EntityField<string?> S = Fields.Field(p => p.S, "s");
    private static readonly EntityField<Guid?> NG = Fields.Field(p => p.NG, "ng");
    private static readonly Guid G1 = new("6a1f4f0e-6c1c-4b6e-9d53-1f1f1f1f1f1f");

    private static readonly Gen<int?> SmallInt = Gen.Frequency((1, Gen.Constant<int?>(null)), (4, Gen.Choose(-2, 2).Select(v => (int?)v)));
    private static readonly Gen<string?> Text = Gen.Elements<string?>(null, "", "a", "A", "it's", "é");

    private static readonly Gen<Condition> Leaf = Gen.OneOf(
        Gen.Elements(B.IsTrue(), B.IsFalse(), NB.IsTrue(), NB.IsFalse(), NB.IsNull(), NB.IsNotNull(), NI.IsNull(), S.IsNotNull(), NG.IsNull(), NG.EqualTo(G1), NG.NotEqualTo(G1)),
        Gen.Choose(-2, 2).SelectMany(_ => Gen.Choose(0, 5), (v, op) => Compare(I, v, op)),
        SmallInt.SelectMany(_ => Gen.Choose(0, 5), (v, op) => v is null ? (op % 2 == 0 ? NI.EqualTo(null) : NI.NotEqualTo(null)) : Compare(NI, v, op)),
        Gen.Choose(-2, 2).SelectMany(_ => Gen.Choose(0, 5), (v, op) => Compare(L, (long)v, op)),
        Gen.Choose(-4, 4).SelectMany(_ => Gen.Choose(0, 5), (v, op) => Compare(ND, v / 2m, op)),
        Text.SelectMany(_ => Gen.Choose(0, 1), (v, op) => op == 0 ? S.EqualTo(v) : S.NotEqualTo(v)));

    private static Condition Compare<T>(EntityField<T> f, T v, int op) => op switch
    {
        0 => f.EqualTo(v),
        1 => f.NotEqualTo(v),
        2 => f.LessThan(v),
        3 => f.LessThanOrEqualTo(v),
        4 => f.GreaterThan(v),
        _ => f.GreaterThanOrEqualTo(v),
    };

    private static Gen<Condition> Tree(int depth) => depth == 0
        ? Leaf
        : Gen.Frequency(
            (2, Leaf),
            (2, Tree(depth - 1).SelectMany(_ => Tree(depth - 1), (a, b) => a & b)),
            (2, Tree(depth - 1).SelectMany(_ => Tree(depth - 1), (a, b) => a | b)),
            (1, Tree(depth - 1).Select(a => !a)));

    private static readonly Gen<Probe> Values =
        from b in Gen.Elements(true, false)
        from nb in Gen.Elements<bool?>(null, true, false)
        from i in Gen.Choose(-2, 2)
        from ni in SmallInt
        from l in Gen.Choose(-2, 2)
        from nd in Gen.Frequency((1, Gen.Constant<decimal?>(null)), (4, Gen.Choose(-4, 4).Select(v => (decimal?)(v / 2m))))
        from s in Text
        from ng in Gen.Elements<Guid?>(null, G1, Guid.Empty)
        select new Probe { B = b, NB = nb, I = i, NI = ni, L = l, ND = nd, S = s, NG = ng };

    [Property(MaxTest = 200)]
    public Property Compiled_predicate_and_generated_sql_agree_on_every_condition_and_row()
    {
        var cases = Tree(3).SelectMany(_ => Gen.ArrayOf(Values, 8), (c, rows) => (c, rows));
        return Prop.ForAll(cases.ToArbitrary(), x =>
        {
            using var conn = new NpgsqlConnection(postgres.Server.ForDatabase("postgres"));
            conn.Open();
            var predicate = ConditionCompiler.Compile<Probe>(x.c);
            var sql = ConditionCompiler.ToSql(x.c, "");
            var rows = string.Join(", ", x.rows.Select((p, n) => $"({n}, {Lit(p.B)}, {Lit(p.NB)}::boolean, {p.I}, {Lit(p.NI)}::integer, {p.L}::bigint, {Lit(p.ND)}::numeric, {Lit(p.S)}::text, {Lit(p.NG)}::uuid)"));
            using var cmd = new NpgsqlCommand($"SELECT n, {sql} FROM (VALUES {rows}) AS t(n, b, nb, i, ni, l, nd, s, ng) ORDER BY n", conn);
            using var r = cmd.ExecuteReader();
            foreach (var p in x.rows)
            {
                Assert.True(r.Read());
                Assert.False(r.IsDBNull(1), $"SQL of {x.c} is NULL: {sql}");
                Assert.True(predicate(p) == r.GetBoolean(1), $"{x.c} on {Describe(p)}: C# {predicate(p)} but SQL {r.GetBoolean(1)} ({sql})");
            }
        });
    }

    private static string Describe(Probe p) => $"b={p.B} nb={p.NB} i={p.I} ni={p.NI} l={p.L} nd={p.ND} s={p.S ?? "null"} ng={p.NG}";

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
