using Xunit;

using System.Reflection;
using System.Text;

namespace Hardening.Testing;

/// <summary>
/// The public API of an assembly as sorted text lines, compared against the package's <c>PublicAPI.txt</c>.
/// Run the tests with <c>HARDENING_UPDATE_API=1</c> to rewrite the baseline after an intended change.
/// </summary>
public static class PublicApiBaseline
{
    /// <summary>Asserts that <paramref name="assembly"/>'s public API equals src/&lt;name&gt;/PublicAPI.txt.</summary>
    public static void AssertMatches(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var name = assembly.GetName().Name!;
        var path = Path.Combine(RepoPaths.Source(name), "PublicAPI.txt");
        var lines = Describe(assembly);
        var actual = lines.Count == 0 ? "" : string.Join('\n', lines) + "\n";
        if (Environment.GetEnvironmentVariable("HARDENING_UPDATE_API") == "1")
        {
            File.WriteAllText(path, actual);
            return;
        }

        var expected = File.Exists(path) ? File.ReadAllText(path).ReplaceLineEndings("\n") : "";
        if (expected != actual)
        {
            var exp = expected.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
            var act = actual.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
            var sb = new StringBuilder($"The public API of {name} differs from {path}. If the change is intended, run the tests with HARDENING_UPDATE_API=1 and commit the file.\n");
            foreach (var line in act.Except(exp).Order(StringComparer.Ordinal))
            {
                sb.Append("+ ").AppendLine(line);
            }

            foreach (var line in exp.Except(act).Order(StringComparer.Ordinal))
            {
                sb.Append("- ").AppendLine(line);
            }

            Assert.Fail(sb.ToString());
        }
    }

    /// <summary>The public surface of <paramref name="assembly"/>, one sorted line per type and member.</summary>
    public static IReadOnlyList<string> Describe(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var lines = new List<string>();
        foreach (var type in assembly.GetExportedTypes())
        {
            var kind = type.IsEnum ? "enum" : type.IsInterface ? "interface" : type.IsValueType ? "struct"
                : typeof(Delegate).IsAssignableFrom(type) ? "delegate" : type.IsAbstract && type.IsSealed ? "static class"
                : type.IsAbstract ? "abstract class" : type.IsSealed ? "sealed class" : "class";
            var bases = new List<string>();
            if (type.BaseType is { } bt && bt != typeof(object) && bt != typeof(ValueType) && bt != typeof(Enum) && !typeof(Delegate).IsAssignableFrom(type))
            {
                bases.Add(Name(bt));
            }

            bases.AddRange(type.GetInterfaces().Select(Name).Order(StringComparer.Ordinal));
            lines.Add($"{kind} {Name(type)}{(bases.Count > 0 ? " : " + string.Join(", ", bases) : "")}");
            const BindingFlags flags = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            foreach (var m in type.GetMembers(flags))
            {
                var line = Member(type, m);
                if (line is not null)
                {
                    lines.Add(line);
                }
            }
        }

        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static string? Member(Type type, MemberInfo m)
    {
        var t = Name(type);
        switch (m)
        {
            case ConstructorInfo c when c.IsPublic || c.IsFamily || c.IsFamilyOrAssembly:
                return $"{t}.ctor({Params(c)})";
            case MethodInfo mi when (mi.IsPublic || mi.IsFamily || mi.IsFamilyOrAssembly) && !mi.IsSpecialName:
                var generic = mi.IsGenericMethod ? "<" + string.Join(", ", mi.GetGenericArguments().Select(a => a.Name)) + ">" : "";
                var mods = (mi.IsStatic ? "static " : "") + (mi.IsAbstract && !type.IsInterface ? "abstract " : mi.IsVirtual && !mi.IsFinal && !type.IsInterface ? "virtual " : "");
                return $"{t}.{mods}{mi.Name}{generic}({Params(mi)}) -> {Name(mi.ReturnType)}";
            case PropertyInfo p:
                var get = p.GetMethod is { } g && (g.IsPublic || g.IsFamily) ? "get; " : "";
                var set = p.SetMethod is { } s && (s.IsPublic || s.IsFamily)
                    ? (s.ReturnParameter.GetRequiredCustomModifiers().Any(x => x.Name == "IsExternalInit") ? "init; " : "set; ") : "";
                if (get.Length + set.Length == 0)
                {
                    return null;
                }

                var idx = p.GetIndexParameters();
                var pname = idx.Length > 0 ? "this[" + string.Join(", ", idx.Select(i => Name(i.ParameterType))) + "]" : p.Name;
                return $"{t}.{pname} {{ {get}{set}}} -> {Name(p.PropertyType)}";
            case FieldInfo f when (f.IsPublic || f.IsFamily) && !f.IsSpecialName:
                if (type.IsEnum)
                {
                    return $"{t}.{f.Name} = {Convert.ToInt64(f.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture)}";
                }

                return $"{t}.{(f.IsLiteral ? "const " : f.IsStatic ? "static " : "")}{(f.IsInitOnly ? "readonly " : "")}{f.Name} -> {Name(f.FieldType)}";
            case EventInfo e when e.AddMethod is { } add && (add.IsPublic || add.IsFamily):
                return $"{t}.event {e.Name} -> {Name(e.EventHandlerType!)}";
            default:
                return null;
        }
    }

    private static string Params(MethodBase m) => string.Join(", ", m.GetParameters().Select(p =>
        (p.IsOut ? "out " : p.ParameterType.IsByRef ? "ref " : "") + Name(p.ParameterType) + " " + p.Name + (p.HasDefaultValue ? " = " + (p.DefaultValue ?? (p.ParameterType.IsValueType && Nullable.GetUnderlyingType(p.ParameterType) is null ? "default" : "null")) : "")));

    private static string Name(Type type)
    {
        if (type.IsByRef)
        {
            return Name(type.GetElementType()!);
        }

        if (type.IsArray)
        {
            return Name(type.GetElementType()!) + "[]";
        }

        if (type.IsGenericParameter)
        {
            return type.Name;
        }

        var name = type.IsNested ? Name(type.DeclaringType!) + "." + type.Name : type.Namespace + "." + type.Name;
        if (type.IsGenericType)
        {
            var tick = name.IndexOf('`', StringComparison.Ordinal);
            name = (tick >= 0 ? name[..tick] : name) + "<" + string.Join(", ", type.GetGenericArguments().Select(Name)) + ">";
        }

        return name;
    }
}
