using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Hardening.Fsm.Tests.Conditions;

/// <summary>
/// The simplifier that folds known field values (entry effects) into a condition, checked against a reference model:
/// a direct evaluator of the condition tree, written here from the documented two-valued semantics. Substituting a
/// partial assignment and simplifying must not change the value under any completion of that assignment, and must
/// leave no constant inside the result and no substituted field.
/// </summary>
public sealed class ConditionSimplifierTests
{
    private static readonly StateMachineBuilder<Probe> Fields = new("simplify", _ => "p");
    private static readonly EntityField<bool> B = Fields.Field(p => p.B, "b");
    private static readonly EntityField<bool?> NB = Fields.Field(p => p.NB, "nb");
    private static readonly EntityField<int?> NI = Fields.Field(p => p.NI, "ni");
    private static readonly EntityField<decimal?> ND = Fields.Field(p => p.ND, "nd");
    private static readonly EntityField<string?> S = Fields.Field(p => p.S, "s");

    private static readonly FieldDefinition[] All = [B.Definition, NB.Definition, NI.Definition, ND.Definition, S.Definition];

    /// <summary>The values each field can take (nulls included), small so that comparisons often tie.</summary>
    private static Gen<object?> ValueOf(FieldDefinition f) => f.Column switch
    {
        "b" => Gen.Elements<object?>(true, false),
        "nb" => Gen.Elements<object?>(true, false, null),
        "ni" => Gen.Elements<object?>(-1, 0, 1, null),
        "nd" => Gen.Elements<object?>(-0.5m, 0m, 0.50m, 1m, null),
        _ => Gen.Elements<object?>("a", "", null),
    };

    private static Condition Compare<T>(EntityField<T> f, T v, int op) => op switch
    {
        0 => f.EqualTo(v),
        1 => f.NotEqualTo(v),
        2 => f.LessThan(v),
        3 => f.LessThanOrEqualTo(v),
        4 => f.GreaterThan(v),
        _ => f.GreaterThanOrEqualTo(v),
    };

    private static readonly Gen<Condition> Leaf = Gen.OneOf(
        Gen.Elements(B.IsTrue(), B.IsFalse(), NB.IsTrue(), NB.IsFalse(), NB.IsNull(), NB.IsNotNull(), S.IsNull(), Condition.True, Condition.False),
        Gen.Elements<int?>(-1, 0, 1, null).SelectMany(_ => Gen.Choose(0, 5), (v, op) => v is null ? (op % 2 == 0 ? NI.EqualTo(null) : NI.NotEqualTo(null)) : Compare(NI, v, op)),
        Gen.Elements(-0.5m, 0m, 0.5m, 1m).SelectMany(_ => Gen.Choose(0, 5), (v, op) => Compare(ND, (decimal?)v, op)),
        Gen.Elements<string?>("a", "", null).SelectMany(_ => Gen.Choose(0, 1), (v, op) => op == 0 ? S.EqualTo(v) : S.NotEqualTo(v)));

    private static Gen<Condition> Tree(int depth) => depth == 0
        ? Leaf
        : Gen.Frequency(
            (1, Leaf),
            (2, Tree(depth - 1).SelectMany(_ => Tree(depth - 1), (a, b) => a & b)),
            (2, Tree(depth - 1).SelectMany(_ => Tree(depth - 1), (a, b) => a | b)),
            (1, Tree(depth - 1).Select(a => !a)));

    /// <summary>A condition, the known values by column and full assignments (by column) that extend them.</summary>
    public sealed record Case(Condition Condition, Dictionary<string, object?> Known, Dictionary<string, object?>[] Completions)
    {
        public override string ToString() =>
            $"{Condition} with {{{string.Join(", ", Known.Select(k => $"{k.Key}={Condition.Literal(k.Value)}"))}}}";
    }

    private static Dictionary<FieldDefinition, object?> ByField(Dictionary<string, object?> byColumn) =>
        byColumn.ToDictionary(kv => All.Single(f => f.Column == kv.Key), kv => kv.Value);

    public static class Cases
    {
        private static Gen<Dictionary<string, object?>> Assignment(IEnumerable<FieldDefinition> fields) =>
            fields.Aggregate(
                Gen.Constant(new Dictionary<string, object?>()),
                (acc, f) => acc.SelectMany(_ => ValueOf(f), (d, v) => new Dictionary<string, object?>(d) { [f.Column] = v }));

        public static Arbitrary<Case> Arbitrary() =>
            (from condition in Tree(3)
             from knownMask in Gen.Choose(0, (1 << All.Length) - 1)
             let knownFields = All.Where((_, i) => (knownMask & (1 << i)) != 0).ToArray()
             from known in Assignment(knownFields)
             from rest in Gen.ArrayOf(Assignment(All.Except(knownFields)), 6)
             select new Case(condition, known, rest.Select(r => r.Concat(known).ToDictionary(kv => kv.Key, kv => (object?)kv.Value)).ToArray())).ToArbitrary();
    }

    /// <summary>The reference model: two-valued, null-safe equality, ordering false on null, numbers compared as decimals.</summary>
    private static bool Eval(Condition c, IReadOnlyDictionary<FieldDefinition, object?> row) => c switch
    {
        ConstantCondition k => k.Value,
        IsNullCondition n => row[n.Field] is null,
        NotCondition n => !Eval(n.Inner, row),
        AndCondition a => Eval(a.Left, row) && Eval(a.Right, row),
        OrCondition o => Eval(o.Left, row) || Eval(o.Right, row),
        CompareCondition cmp => Compare(cmp.Op, row[cmp.Field], cmp.Value),
        _ => throw new InvalidOperationException(c.GetType().Name),
    };

    private static bool Compare(CompareOp op, object? left, object? right)
    {
        if (op is CompareOp.Equal or CompareOp.NotEqual)
        {
            var equal = left is null || right is null
                ? left is null && right is null
                : left is string ls ? ls == (string)right : ToDecimalOrBool(left).Equals(ToDecimalOrBool(right));
            return op == CompareOp.Equal ? equal : !equal;
        }

        if (left is null || right is null)
        {
            return false;
        }

        var (l, r) = ((decimal)ToDecimalOrBool(left), (decimal)ToDecimalOrBool(right));
        return op switch
        {
            CompareOp.LessThan => l < r,
            CompareOp.LessThanOrEqual => l <= r,
            CompareOp.GreaterThan => l > r,
            _ => l >= r,
        };
    }

    private static object ToDecimalOrBool(object v) => v switch
    {
        bool b => b,
        int i => (decimal)i,
        decimal d => d,
        _ => throw new InvalidOperationException(v.GetType().Name),
    };

    private static IEnumerable<Condition> Nodes(Condition c) => c switch
    {
        AndCondition a => Nodes(a.Left).Concat(Nodes(a.Right)).Prepend(c),
        OrCondition o => Nodes(o.Left).Concat(Nodes(o.Right)).Prepend(c),
        NotCondition n => Nodes(n.Inner).Prepend(c),
        _ => [c],
    };

    [Property(MaxTest = 300, Arbitrary = [typeof(Cases)])]
    public void Substituting_known_values_keeps_the_value_under_every_completion(Case x)
    {
        var simplified = ConditionCompiler.Substitute(x.Condition, ByField(x.Known));
        foreach (var row in x.Completions.Select(ByField))
        {
            Assert.True(Eval(x.Condition, row) == Eval(simplified, row), $"{x.Condition} became {simplified}; they differ on a completion");
        }
    }

    [Property(MaxTest = 300, Arbitrary = [typeof(Cases)])]
    public void The_result_is_a_constant_or_free_of_constants_and_of_substituted_fields(Case x)
    {
        var known = ByField(x.Known);
        var simplified = ConditionCompiler.Substitute(x.Condition, known);
        if (simplified is ConstantCondition)
        {
            return;
        }

        var nodes = Nodes(simplified).ToList();
        Assert.DoesNotContain(nodes, n => n is ConstantCondition && known.Count > 0);
        var used = new HashSet<FieldDefinition>();
        simplified.CollectFields(used);
        Assert.DoesNotContain(used, known.ContainsKey);
    }

    [Fact]
    public void Constant_false_is_recognised_only_for_the_false_constant()
    {
        Assert.True(ConditionCompiler.IsConstantFalse(Condition.False));
        Assert.False(ConditionCompiler.IsConstantFalse(Condition.True));
        Assert.False(ConditionCompiler.IsConstantFalse(B.IsFalse()));
        Assert.False(ConditionCompiler.IsConstantFalse(!Condition.True)); // not folded without a substitution
    }

    [Theory]
    [InlineData(true, "true")]
    [InlineData(false, "false")]
    public void A_fully_known_condition_folds_to_its_constant(bool flag, string expected)
    {
        var c = (B.IsTrue() & !NI.LessThan(0)) | (B.IsTrue() & NB.IsNull());
        var known = new Dictionary<FieldDefinition, object?> { [B.Definition] = flag, [NI.Definition] = 0, [NB.Definition] = null };
        Assert.Equal(expected, ConditionCompiler.Substitute(c, known).ToString());
    }
}
