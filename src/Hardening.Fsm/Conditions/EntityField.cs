using System.Reflection;

namespace Hardening.Fsm;

/// <summary>
/// A field of the entity that conditions, invariants and entry effects may refer to, with the database column it maps
/// to. Created by <see cref="StateMachineBuilder{TEntity}.Field{T}"/> or
/// <see cref="StateMachineBuilder{TEntity}.ProtectedField{T}"/>.
/// </summary>
/// <typeparam name="T">The field's type: <see cref="bool"/>, <see cref="int"/>, <see cref="long"/>, <see cref="decimal"/>,
/// <see cref="Guid"/> (or their nullable forms) or <see cref="string"/>.</typeparam>
public sealed class EntityField<T>
{
    internal EntityField(FieldDefinition definition) => Definition = definition;

    /// <summary>The database column this field maps to.</summary>
    public string Column => Definition.Column;

    /// <summary>True when only transitions may change the field (directly changing it is rejected in the database).</summary>
    public bool IsProtected => Definition.IsProtected;

    internal FieldDefinition Definition { get; }

    /// <summary>The field equals <paramref name="value"/> (a null value matches null).</summary>
    public Condition EqualTo(T value) => value is null ? new IsNullCondition(Definition) : new CompareCondition(Definition, CompareOp.Equal, value);

    /// <summary>The field differs from <paramref name="value"/> (null differs from every non-null value).</summary>
    public Condition NotEqualTo(T value) => value is null ? new NotCondition(new IsNullCondition(Definition)) : new CompareCondition(Definition, CompareOp.NotEqual, value);

    /// <summary>The field is null.</summary>
    public Condition IsNull() => new IsNullCondition(Definition);

    /// <summary>The field is not null.</summary>
    public Condition IsNotNull() => new NotCondition(new IsNullCondition(Definition));

    /// <summary>The field is less than <paramref name="value"/> (false when the field is null). Numeric fields only.</summary>
    public Condition LessThan(T value) => Ordered(CompareOp.LessThan, value);

    /// <summary>The field is at most <paramref name="value"/> (false when the field is null). Numeric fields only.</summary>
    public Condition LessThanOrEqualTo(T value) => Ordered(CompareOp.LessThanOrEqual, value);

    /// <summary>The field is greater than <paramref name="value"/> (false when the field is null). Numeric fields only.</summary>
    public Condition GreaterThan(T value) => Ordered(CompareOp.GreaterThan, value);

    /// <summary>The field is at least <paramref name="value"/> (false when the field is null). Numeric fields only.</summary>
    public Condition GreaterThanOrEqualTo(T value) => Ordered(CompareOp.GreaterThanOrEqual, value);

    /// <inheritdoc />
    public override string ToString() => Definition.Column;

    private CompareCondition Ordered(CompareOp op, T value)
    {
        if (!FieldDefinition.IsNumeric(typeof(T)))
        {
            throw new InvalidOperationException(
                $"Field '{Definition.Column}' has type {typeof(T).Name}; ordering comparisons are only defined for int, long and decimal fields (string ordering depends on the database collation). Use EqualTo/NotEqualTo instead.");
        }

        ArgumentNullException.ThrowIfNull(value);
        return new CompareCondition(Definition, op, value);
    }
}

/// <summary>Conditions on boolean fields.</summary>
public static class EntityFieldExtensions
{
    /// <summary>The field is true.</summary>
    public static Condition IsTrue(this EntityField<bool> field)
    {
        ArgumentNullException.ThrowIfNull(field);
        return field.EqualTo(true);
    }

    /// <summary>The field is false.</summary>
    public static Condition IsFalse(this EntityField<bool> field)
    {
        ArgumentNullException.ThrowIfNull(field);
        return field.EqualTo(false);
    }

    /// <summary>The field is true (not false, not null).</summary>
    public static Condition IsTrue(this EntityField<bool?> field)
    {
        ArgumentNullException.ThrowIfNull(field);
        return field.EqualTo(true);
    }

    /// <summary>The field is false (not true, not null).</summary>
    public static Condition IsFalse(this EntityField<bool?> field)
    {
        ArgumentNullException.ThrowIfNull(field);
        return field.EqualTo(false);
    }
}

/// <summary>One declared field: column, CLR property and whether only transitions may change it.</summary>
internal sealed class FieldDefinition(object owner, string column, PropertyInfo property, Type valueType, bool isProtected)
{
    private static readonly Type[] Supported =
    [
        typeof(bool), typeof(int), typeof(long), typeof(decimal), typeof(Guid), typeof(string),
        typeof(bool?), typeof(int?), typeof(long?), typeof(decimal?), typeof(Guid?),
    ];

    public object Owner { get; } = owner;

    public string Column { get; } = column;

    public PropertyInfo Property { get; } = property;

    public Type ValueType { get; } = valueType;

    public bool IsProtected { get; } = isProtected;

    public bool IsNullable => !ValueType.IsValueType || Nullable.GetUnderlyingType(ValueType) is not null;

    public static bool IsSupported(Type t) => Array.IndexOf(Supported, t) >= 0;

    public static bool IsNumeric(Type t)
    {
        var u = Nullable.GetUnderlyingType(t) ?? t;
        return u == typeof(int) || u == typeof(long) || u == typeof(decimal);
    }

    public override string ToString() => Column;
}
