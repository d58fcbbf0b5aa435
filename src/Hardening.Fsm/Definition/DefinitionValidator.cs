using Hardening.Shared;
using System.Text.RegularExpressions;

namespace Hardening.Fsm;

/// <summary>Finds every problem of a definition; the builder reports them together.</summary>
internal static partial class DefinitionValidator
{
    public static List<string> Validate<TEntity>(StateMachineBuilder<TEntity> b)
        where TEntity : StatefulEntity
    {
        var problems = new List<string>();
        var states = b.States;
        var names = states.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);

        CheckName(problems, "machine", b.Name);
        foreach (var s in states)
        {
            CheckName(problems, "state", s.Name);
            foreach (var t in s.Transitions)
            {
                CheckName(problems, "trigger", t.Trigger);
                foreach (var g in t.Guards)
                {
                    CheckName(problems, "guard", g.Name);
                }
            }

            foreach (var (inv, _) in s.Invariants)
            {
                CheckName(problems, "invariant", inv);
            }
        }

        foreach (var (inv, _) in b.GlobalInvariants)
        {
            CheckName(problems, "invariant", inv);
        }

        var invariantNames = states.SelectMany(s => s.Invariants.Select(i => i.Name)).Concat(b.GlobalInvariants.Select(i => i.Name));
        foreach (var dup in invariantNames.GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add($"Invariant name '{dup.Key}' is used {dup.Count()} times; each invariant needs its own name (it names a CHECK constraint).");
        }

        CheckFields(b, problems);

        if (b.Initial is null)
        {
            problems.Add("No initial state: call InitialState(\"...\") with the state new entities start in.");
        }

        if (states.Count > 0 && states.All(s => s.Transitions.Count == 0))
        {
            problems.Add("The machine has no transitions: use Configure(state).Permit(trigger, target).");
        }

        CheckTransitions(states, problems);

        var reachable = b.Initial is null ? names : Reachable(states, b.Initial);
        foreach (var s in states)
        {
            if (!reachable.Contains(s.Name))
            {
                problems.Add($"Unreachable state '{s.Name}': no path of transitions leads to it from the initial state '{b.Initial}'.");
            }

            if (!s.IsTerminal && s.Transitions.Count == 0)
            {
                problems.Add($"Dead end: non-terminal state '{s.Name}' has no outgoing transitions; permit a trigger from it or mark it Terminal().");
            }

            if (s.IsTerminal && s.Transitions.Count > 0)
            {
                problems.Add($"Terminal state '{s.Name}' has outgoing transitions ({string.Join(", ", s.Transitions.Select(t => $"'{t.Trigger}' to '{t.Target}'"))}); a terminal state can never be left.");
            }
        }

        CheckHistory(b, states, names, reachable, problems);
        CheckEffects(b, states, problems);
        return problems;
    }

    private static void CheckFields<TEntity>(StateMachineBuilder<TEntity> b, List<string> problems)
        where TEntity : StatefulEntity
    {
        foreach (var dup in b.Fields.GroupBy(f => f.Column, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add($"Column '{dup.Key}' is declared {dup.Count()} times; declare each field once.");
        }

        foreach (var f in b.Fields)
        {
            if (!PostgresNames.IsPlainIdentifier(f.Column))
            {
                problems.Add($"Column name '{f.Column}' is not a plain PostgreSQL identifier; use lower-case letters, digits and '_' (at most 63 characters), such as 'is_blacklisted'.");
            }

            if (f.IsProtected && f.Property.SetMethod is { IsPublic: true })
            {
                problems.Add($"Protected field '{f.Column}' ({typeof(TEntity).Name}.{f.Property.Name}) has a public setter; make it private so only the machine changes it.");
            }
        }

        var declared = b.Fields.ToHashSet();
        void CheckCondition(string where, Condition c)
        {
            var used = new HashSet<FieldDefinition>();
            c.CollectFields(used);
            foreach (var f in used.Where(f => !declared.Contains(f)))
            {
                problems.Add($"{where} uses field '{f.Column}' that was declared on another builder; declare fields on this builder.");
            }
        }

        foreach (var s in b.States)
        {
            foreach (var (name, c) in s.Invariants)
            {
                CheckCondition($"Invariant '{name}'", c);
            }

            foreach (var t in s.Transitions)
            {
                foreach (var g in t.Guards.Where(g => g.Condition is not null))
                {
                    CheckCondition($"Guard '{g.Name}'", g.Condition!);
                }
            }

            foreach (var (f, _) in s.Effects)
            {
                if (!declared.Contains(f))
                {
                    problems.Add($"Entry effect of state '{s.Name}' sets field '{f.Column}' that was declared on another builder.");
                }
                else if (f.Property.SetMethod is null)
                {
                    problems.Add($"Entry effect of state '{s.Name}' sets field '{f.Column}', but {typeof(TEntity).Name}.{f.Property.Name} has no setter; add a private setter.");
                }
            }
        }

        foreach (var (name, c) in b.GlobalInvariants)
        {
            CheckCondition($"Invariant '{name}'", c);
        }
    }

    private static void CheckTransitions<TEntity>(IReadOnlyList<StateConfiguration<TEntity>> states, List<string> problems)
        where TEntity : StatefulEntity
    {
        foreach (var s in states)
        {
            foreach (var group in s.Transitions.GroupBy(t => t.Trigger, StringComparer.Ordinal))
            {
                var targets = group.Select(t => t.Target).ToList();
                foreach (var dup in targets.GroupBy(t => t, StringComparer.Ordinal).Where(g => g.Count() > 1))
                {
                    problems.Add($"Duplicate transition: trigger '{group.Key}' from '{s.Name}' to '{dup.Key}' is configured {dup.Count()} times; configure it once and add guards to it.");
                }

                var distinct = targets.Distinct(StringComparer.Ordinal).ToList();
                if (distinct.Count > 1)
                {
                    problems.Add($"Ambiguous transition: trigger '{group.Key}' from '{s.Name}' goes to {string.Join(" and ", distinct.Select(t => $"'{t}'"))}; use one trigger per target.");
                }
            }

            foreach (var group in s.Transitions.GroupBy(t => t.Target, StringComparer.Ordinal))
            {
                var triggers = group.Select(t => t.Trigger).Distinct(StringComparer.Ordinal).ToList();
                if (triggers.Count > 1)
                {
                    problems.Add($"Ambiguous transition: triggers {string.Join(" and ", triggers.Select(t => $"'{t}'"))} both go from '{s.Name}' to '{group.Key}'; the database sees only the status change and could not tell them apart, so use one trigger.");
                }
            }

            foreach (var t in s.Transitions.Where(t => string.Equals(t.Target, s.Name, StringComparison.Ordinal)))
            {
                problems.Add($"Self-transition: trigger '{t.Trigger}' from '{s.Name}' targets '{s.Name}' itself; a status that does not change is not a transition.");
            }
        }
    }

    private static void CheckHistory<TEntity>(StateMachineBuilder<TEntity> b, IReadOnlyList<StateConfiguration<TEntity>> states, HashSet<string> names, HashSet<string> reachable, List<string> problems)
        where TEntity : StatefulEntity
    {
        foreach (var s in states)
        {
            foreach (var required in s.RequiredHistory)
            {
                if (!names.Contains(required))
                {
                    problems.Add($"History requirement can never be met: '{s.Name}' only after '{required}', but state '{required}' is not declared.");
                    continue;
                }

                if (b.Initial is null || !reachable.Contains(required))
                {
                    problems.Add($"History requirement can never be met: '{s.Name}' only after '{required}', but '{required}' is unreachable.");
                    continue;
                }

                // Met when some transition into the state leaves a state reachable from the required one.
                var afterRequired = Reachable(states, required);
                var met = states.Any(src => afterRequired.Contains(src.Name) && src.Transitions.Any(t => string.Equals(t.Target, s.Name, StringComparison.Ordinal)));
                if (!met)
                {
                    problems.Add($"History requirement can never be met: '{s.Name}' only after '{required}', but no path leads from '{required}' to a transition into '{s.Name}'.");
                }
            }
        }
    }

    private static void CheckEffects<TEntity>(StateMachineBuilder<TEntity> b, IReadOnlyList<StateConfiguration<TEntity>> states, List<string> problems)
        where TEntity : StatefulEntity
    {
        // An invariant that can never hold, whatever the fields: no entity could ever be in the state (or, machine-wide,
        // in any state), so every transition into it would be refused at run time. Refuse the definition instead.
        var none = new Dictionary<FieldDefinition, object?>();
        var neverGlobal = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, c) in b.GlobalInvariants)
        {
            if (ConditionCompiler.IsConstantFalse(ConditionCompiler.Substitute(c, none)))
            {
                neverGlobal.Add(name);
                problems.Add($"Machine-wide invariant '{name}' can never hold ({c}): no entity could be in any state.");
            }
        }

        foreach (var s in states)
        {
            foreach (var dup in s.Effects.GroupBy(e => e.Field).Where(g => g.Count() > 1))
            {
                problems.Add($"Entering '{s.Name}' sets field '{dup.Key.Column}' {dup.Count()} times; set it once.");
            }

            if (s.Effects.Count == 0)
            {
                foreach (var (name, c) in s.Invariants)
                {
                    if (ConditionCompiler.IsConstantFalse(ConditionCompiler.Substitute(c, none)))
                    {
                        problems.Add($"Invariant '{name}' of state '{s.Name}' can never hold ({c}): no entity could ever enter '{s.Name}'.");
                    }
                }

                continue;
            }

            var known = new Dictionary<FieldDefinition, object?>();
            foreach (var (f, v) in s.Effects)
            {
                known[f] = v;
            }

            foreach (var (name, c) in s.Invariants.Concat(b.GlobalInvariants.Where(g => !neverGlobal.Contains(g.Name))))
            {
                if (ConditionCompiler.IsConstantFalse(ConditionCompiler.Substitute(c, known)))
                {
                    var sets = string.Join(", ", s.Effects.Select(e => $"{e.Field.Column} = {Condition.Literal(e.Value)}"));
                    problems.Add($"Effect contradicts invariant: entering '{s.Name}' sets {sets}, which breaks invariant '{name}' ({c}).");
                }
            }
        }
    }

    internal static HashSet<string> Reachable<TEntity>(IReadOnlyList<StateConfiguration<TEntity>> states, string start)
        where TEntity : StatefulEntity
    {
        var byName = states.ToDictionary(s => s.Name, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal) { start };
        var queue = new Queue<string>();
        queue.Enqueue(start);
        while (queue.Count > 0)
        {
            if (!byName.TryGetValue(queue.Dequeue(), out var s))
            {
                continue;
            }

            foreach (var t in s.Transitions)
            {
                if (seen.Add(t.Target))
                {
                    queue.Enqueue(t.Target);
                }
            }
        }

        return seen;
    }

    private static void CheckName(List<string> problems, string role, string name)
    {
        if (!NamePattern().IsMatch(name))
        {
            problems.Add($"Invalid {role} name '{name}': use letters, digits and '_' starting with a letter (at most 63 characters), such as 'LEFT_COMPANY' or 'make_offer'.");
        }
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]{0,62}$")]
    private static partial Regex NamePattern();
}
