using System.Collections.Frozen;
using System.Linq.Expressions;

namespace Hardening.Fsm;

/// <summary>
/// Compiles a validated definition into a <see cref="CompiledMachine{TEntity}"/>: conditions become delegates, entry
/// effects become setters, and each transition gets the target's invariants with its effects folded in.
/// </summary>
internal static class MachineCompiler
{
    /// <summary>Compiles <paramref name="b"/> (already validated by <see cref="DefinitionValidator"/>).</summary>
    public static CompiledMachine<TEntity> Compile<TEntity>(StateMachineBuilder<TEntity> b)
        where TEntity : StatefulEntity
    {
        // The identity the compiled states carry, so an entity's cached state is used only by the machine it came from.
        var owner = new object();
        var canonical = b.States.ToDictionary(s => s.Name, s => s.Name, StringComparer.Ordinal);
        var globalInvariants = b.GlobalInvariants.Select(i => (i.Name, ConditionCompiler.Compile<TEntity>(i.Condition))).ToArray();

        var compiled = new Dictionary<string, CompiledState<TEntity>>(StringComparer.Ordinal);
        foreach (var s in b.States)
        {
            var invariants = s.Invariants.Select(i => (i.Name, ConditionCompiler.Compile<TEntity>(i.Condition))).Concat(globalInvariants).ToArray();
            compiled[s.Name] = new CompiledState<TEntity>(owner, canonical[s.Name], s.IsTerminal, invariants);
        }

        var touchesProtected = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var s in b.States)
        {
            var transitions = new List<CompiledTransition<TEntity>>();
            foreach (var t in s.Transitions)
            {
                var target = b.States.First(x => string.Equals(x.Name, t.Target, StringComparison.Ordinal));
                transitions.Add(CompileTransition(b, s, t, target, canonical, compiled[target.Name]));
                touchesProtected[t.Trigger] = touchesProtected.GetValueOrDefault(t.Trigger) || target.Effects.Any(e => e.Field.IsProtected);
            }

            compiled[s.Name].Triggers = [.. transitions.Select(t => t.Trigger)];
            compiled[s.Name].Transitions = [.. transitions];
        }

        return new CompiledMachine<TEntity>
        {
            Owner = owner,
            States = compiled.ToFrozenDictionary(StringComparer.Ordinal),
            TriggerTouchesProtected = touchesProtected.ToFrozenDictionary(StringComparer.Ordinal),
            Model = new MachineModel
            {
                Name = b.Name,
                Initial = b.Initial!,
                States = [.. b.States.Select(s => new StateModel(s.Name, s.IsTerminal, [.. s.RequiredHistory], [.. s.Invariants], [.. s.Effects]))],
                Transitions = [.. b.States.SelectMany(s => s.Transitions.Select(t => new TransitionModel(s.Name, t.Trigger, t.Target, [.. t.Guards.Select(g => (g.Name, g.Condition))])))],
                GlobalInvariants = [.. b.GlobalInvariants],
                Fields = [.. b.Fields],
            },
        };
    }

    private static CompiledTransition<TEntity> CompileTransition<TEntity>(StateMachineBuilder<TEntity> b, StateConfiguration<TEntity> source, TransitionConfiguration<TEntity> t, StateConfiguration<TEntity> target, Dictionary<string, string> canonical, CompiledState<TEntity> compiledTarget)
        where TEntity : StatefulEntity
    {
        var guards = t.Guards.Select(g => (g.Name, g.Predicate ?? ConditionCompiler.Compile<TEntity>(g.Condition!))).ToArray();
        var known = new Dictionary<FieldDefinition, object?>();
        foreach (var (f, v) in target.Effects)
        {
            known[f] = v;
        }

        var post = target.Invariants.Concat(b.GlobalInvariants)
            .Select(i => (i.Name, Condition: ConditionCompiler.Substitute(i.Condition, known)))
            .Where(i => i.Condition is not ConstantCondition { Value: true })
            .Select(i => (i.Name, ConditionCompiler.Compile<TEntity>(i.Condition)))
            .ToArray();
        var effects = target.Effects.Select(e => CompileSetter<TEntity>(e.Field, e.Value)).ToArray();
        return new CompiledTransition<TEntity>(canonical[source.Name], t.Trigger, canonical[target.Name], guards, [.. target.RequiredHistory.Select(h => canonical[h])], post, effects, target.IsTerminal, compiledTarget);
    }

    private static Action<TEntity> CompileSetter<TEntity>(FieldDefinition field, object? value)
    {
        var p = Expression.Parameter(typeof(TEntity), "entity");
        var assign = Expression.Assign(Expression.Property(p, field.Property), Expression.Constant(value, field.ValueType));
        return Expression.Lambda<Action<TEntity>>(assign, p).Compile();
    }
}
