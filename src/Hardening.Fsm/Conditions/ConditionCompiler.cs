using Hardening.Shared;
using System.Globalization;
using System.Linq.Expressions;
using System.Text;

namespace Hardening.Fsm;

/// <summary>Turns the condition model into a compiled C# predicate, into SQL, and folds known field values in.</summary>
internal static class ConditionCompiler
{
    public static Func<TEntity, bool> Compile<TEntity>(Condition condition)
    {
        var p = Expression.Parameter(typeof(TEntity), "entity");
        var body = ToExpression(condition, p);
        return Expression.Lambda<Func<TEntity, bool>>(body, p).Compile();
    }

    /// <summary>
    /// SQL that is never NULL, so CHECK constraints and trigger tests use the same two-valued logic as C#.
    /// </summary>
    public static string ToSql(Condition condition, string columnPrefix)
    {
        var sb = new StringBuilder();
        AppendSql(sb, condition, columnPrefix);
        return sb.ToString();
    }

    /// <summary>Replaces fields with known values (entry effects) by constants and simplifies.</summary>
    public static Condition Substitute(Condition condition, IReadOnlyDictionary<FieldDefinition, object?> known) => condition switch
    {
        CompareCondition c when known.TryGetValue(c.Field, out var v) => Constant(Evaluate(c.Op, v, c.Value)),
        IsNullCondition n when known.TryGetValue(n.Field, out var v) => Constant(v is null),
        AndCondition a => Simplify(new AndCondition(Substitute(a.Left, known), Substitute(a.Right, known))),
        OrCondition o => Simplify(new OrCondition(Substitute(o.Left, known), Substitute(o.Right, known))),
        NotCondition n => Simplify(new NotCondition(Substitute(n.Inner, known))),
        _ => condition,
    };

    public static bool IsConstantFalse(Condition c) => c is ConstantCondition { Value: false };

    private static Condition Constant(bool value) => value ? Condition.True : Condition.False;

    private static Condition Simplify(Condition c) => c switch
    {
        AndCondition { Left: ConstantCondition l } a => l.Value ? a.Right : Condition.False,
        AndCondition { Right: ConstantCondition r } a => r.Value ? a.Left : Condition.False,
        OrCondition { Left: ConstantCondition l } o => l.Value ? Condition.True : o.Right,
        OrCondition { Right: ConstantCondition r } o => r.Value ? Condition.True : o.Left,
        NotCondition { Inner: ConstantCondition i } => Constant(!i.Value),
        _ => c,
    };

    private static bool Evaluate(CompareOp op, object? left, object? right)
    {
        switch (op)
        {
            case CompareOp.Equal:
                return Equals(left, right);
            case CompareOp.NotEqual:
                return !Equals(left, right);
            default:
                if (left is null || right is null)
                {
                    return false;
                }

                var cmp = Convert.ToDecimal(left, CultureInfo.InvariantCulture).CompareTo(Convert.ToDecimal(right, CultureInfo.InvariantCulture));
                return op switch
                {
                    CompareOp.LessThan => cmp < 0,
                    CompareOp.LessThanOrEqual => cmp <= 0,
                    CompareOp.GreaterThan => cmp > 0,
                    _ => cmp >= 0,
                };
        }
    }

    private static Expression ToExpression(Condition condition, ParameterExpression p)
    {
        switch (condition)
        {
            case ConstantCondition k:
                return Expression.Constant(k.Value);
            case CompareCondition c:
            {
                var left = Expression.Property(p, c.Field.Property);
                var right = Expression.Constant(c.Value, c.Field.ValueType);
                return c.Op switch
                {
                    // Lifted equality treats null = null as true, like IS NOT DISTINCT FROM.
                    CompareOp.Equal => Expression.Equal(left, right),
                    CompareOp.NotEqual => Expression.NotEqual(left, right),

                    // Lifted ordering is false when either side is null, like COALESCE(a < b, false).
                    CompareOp.LessThan => Expression.LessThan(left, right),
                    CompareOp.LessThanOrEqual => Expression.LessThanOrEqual(left, right),
                    CompareOp.GreaterThan => Expression.GreaterThan(left, right),
                    _ => Expression.GreaterThanOrEqual(left, right),
                };
            }

            case IsNullCondition n:
            {
                if (!n.Field.IsNullable)
                {
                    return Expression.Constant(false);
                }

                var left = Expression.Property(p, n.Field.Property);
                return Expression.Equal(left, Expression.Constant(null, n.Field.ValueType));
            }

            case AndCondition a:
                return Expression.AndAlso(ToExpression(a.Left, p), ToExpression(a.Right, p));
            case OrCondition o:
                return Expression.OrElse(ToExpression(o.Left, p), ToExpression(o.Right, p));
            case NotCondition n:
                return Expression.Not(ToExpression(n.Inner, p));
            default:
                throw new InvalidOperationException($"Unknown condition node {condition.GetType().Name}.");
        }
    }

    private static void AppendSql(StringBuilder sb, Condition condition, string prefix)
    {
        switch (condition)
        {
            case ConstantCondition k:
                sb.Append(k.Value ? "true" : "false");
                break;
            case CompareCondition c:
            {
                var column = prefix + PostgresNames.Quote(c.Field.Column);
                var literal = PostgresSql.Literal(c.Value);
                switch (c.Op)
                {
                    case CompareOp.Equal:
                        sb.Append('(').Append(column).Append(" IS NOT DISTINCT FROM ").Append(literal).Append(')');
                        break;
                    case CompareOp.NotEqual:
                        sb.Append('(').Append(column).Append(" IS DISTINCT FROM ").Append(literal).Append(')');
                        break;
                    default:
                        sb.Append("COALESCE(").Append(column).Append(' ').Append(CompareCondition.Symbol(c.Op)).Append(' ').Append(literal).Append(", false)");
                        break;
                }

                break;
            }

            case IsNullCondition n:
                sb.Append('(').Append(prefix).Append(PostgresNames.Quote(n.Field.Column)).Append(" IS NULL)");
                break;
            case AndCondition a:
                sb.Append('(');
                AppendSql(sb, a.Left, prefix);
                sb.Append(" AND ");
                AppendSql(sb, a.Right, prefix);
                sb.Append(')');
                break;
            case OrCondition o:
                sb.Append('(');
                AppendSql(sb, o.Left, prefix);
                sb.Append(" OR ");
                AppendSql(sb, o.Right, prefix);
                sb.Append(')');
                break;
            case NotCondition n:
                sb.Append("(NOT ");
                AppendSql(sb, n.Inner, prefix);
                sb.Append(')');
                break;
            default:
                throw new InvalidOperationException($"Unknown condition node {condition.GetType().Name}.");
        }
    }
}
