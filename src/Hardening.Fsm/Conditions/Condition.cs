using System.Globalization;
using System.Text;

namespace Hardening.Fsm;

/// <summary>
/// A boolean rule over an entity's fields, written once and compiled both to a C# predicate and to SQL, so the
/// in-memory machine and the database cannot drift. Build conditions from <see cref="EntityField{T}"/> methods and
/// combine them with <c>&amp;</c>, <c>|</c> and <c>!</c>. Comparisons are null-safe and two-valued in both worlds:
/// <c>EqualTo(null)</c> matches a null value, and an ordering comparison with a null value is false.
/// </summary>
public abstract class Condition
{
    private protected Condition()
    {
    }

    /// <summary>A condition that always holds.</summary>
    public static Condition True { get; } = new ConstantCondition(true);

    /// <summary>A condition that never holds.</summary>
    public static Condition False { get; } = new ConstantCondition(false);

    /// <summary>Both conditions hold.</summary>
    public static Condition operator &(Condition left, Condition right) => And(left, right);

    /// <summary>At least one condition holds.</summary>
    public static Condition operator |(Condition left, Condition right) => Or(left, right);

    /// <summary>The condition does not hold.</summary>
    public static Condition operator !(Condition condition) => Not(condition);

    /// <summary>Both conditions hold.</summary>
    public static Condition And(Condition left, Condition right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        return new AndCondition(left, right);
    }

    /// <summary>At least one condition holds.</summary>
    public static Condition Or(Condition left, Condition right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        return new OrCondition(left, right);
    }

    /// <summary>The condition does not hold.</summary>
    public static Condition Not(Condition condition)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return new NotCondition(condition);
    }

    /// <summary>Same as <see cref="And(Condition, Condition)"/> (for languages without operator overloading).</summary>
    public static Condition BitwiseAnd(Condition left, Condition right) => And(left, right);

    /// <summary>Same as <see cref="Or(Condition, Condition)"/> (for languages without operator overloading).</summary>
    public static Condition BitwiseOr(Condition left, Condition right) => Or(left, right);

    /// <summary>Same as <see cref="Not(Condition)"/> (for languages without operator overloading).</summary>
    public static Condition LogicalNot(Condition condition) => Not(condition);

    /// <summary>A readable form such as <c>is_blacklisted = true</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        Render(sb);
        return sb.ToString();
    }

    internal abstract void Render(StringBuilder sb);

    internal abstract void CollectFields(HashSet<FieldDefinition> fields);

    internal static string Literal(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        string s => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "null",
    };
}

/// <summary>The comparison operators of the condition model.</summary>
internal enum CompareOp
{
    Equal,
    NotEqual,
    LessThan,
    LessThanOrEqual,
    GreaterThan,
    GreaterThanOrEqual,
}

internal sealed class ConstantCondition(bool value) : Condition
{
    public bool Value { get; } = value;

    internal override void Render(StringBuilder sb) => sb.Append(Value ? "true" : "false");

    internal override void CollectFields(HashSet<FieldDefinition> fields)
    {
    }
}

internal sealed class CompareCondition(FieldDefinition field, CompareOp op, object? value) : Condition
{
    public FieldDefinition Field { get; } = field;

    public CompareOp Op { get; } = op;

    public object? Value { get; } = value;

    internal static string Symbol(CompareOp op) => op switch
    {
        CompareOp.Equal => "=",
        CompareOp.NotEqual => "<>",
        CompareOp.LessThan => "<",
        CompareOp.LessThanOrEqual => "<=",
        CompareOp.GreaterThan => ">",
        _ => ">=",
    };

    internal override void Render(StringBuilder sb) =>
        sb.Append(Field.Column).Append(' ').Append(Symbol(Op)).Append(' ').Append(Literal(Value));

    internal override void CollectFields(HashSet<FieldDefinition> fields) => fields.Add(Field);
}

internal sealed class IsNullCondition(FieldDefinition field) : Condition
{
    public FieldDefinition Field { get; } = field;

    internal override void Render(StringBuilder sb) => sb.Append(Field.Column).Append(" is null");

    internal override void CollectFields(HashSet<FieldDefinition> fields) => fields.Add(Field);
}

internal sealed class AndCondition(Condition left, Condition right) : Condition
{
    public Condition Left { get; } = left;

    public Condition Right { get; } = right;

    internal override void Render(StringBuilder sb)
    {
        sb.Append('(');
        Left.Render(sb);
        sb.Append(" and ");
        Right.Render(sb);
        sb.Append(')');
    }

    internal override void CollectFields(HashSet<FieldDefinition> fields)
    {
        Left.CollectFields(fields);
        Right.CollectFields(fields);
    }
}

internal sealed class OrCondition(Condition left, Condition right) : Condition
{
    public Condition Left { get; } = left;

    public Condition Right { get; } = right;

    internal override void Render(StringBuilder sb)
    {
        sb.Append('(');
        Left.Render(sb);
        sb.Append(" or ");
        Right.Render(sb);
        sb.Append(')');
    }

    internal override void CollectFields(HashSet<FieldDefinition> fields)
    {
        Left.CollectFields(fields);
        Right.CollectFields(fields);
    }
}

internal sealed class NotCondition(Condition inner) : Condition
{
    public Condition Inner { get; } = inner;

    internal override void Render(StringBuilder sb)
    {
        sb.Append("not ");
        Inner.Render(sb);
    }

    internal override void CollectFields(HashSet<FieldDefinition> fields) => Inner.CollectFields(fields);
}
