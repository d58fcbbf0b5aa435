using System.Text;

namespace Hardening.Fsm;

/// <summary>Mermaid and Graphviz renderings of a definition.</summary>
internal static class GraphExport
{
    public static string Mermaid(MachineModel m)
    {
        var sb = new StringBuilder();
        sb.Append("stateDiagram-v2\n");
        sb.Append("    [*] --> ").Append(m.Initial).Append('\n');
        foreach (var s in m.States.Where(s => s.IsTerminal))
        {
            sb.Append("    ").Append(s.Name).Append(" --> [*]\n");
        }

        foreach (var t in m.Transitions)
        {
            sb.Append("    ").Append(t.From).Append(" --> ").Append(t.To).Append(" : ").Append(Label(t)).Append('\n');
        }

        foreach (var s in m.States.Where(s => s.RequiredHistory.Count > 0 || s.Invariants.Count > 0 || s.Effects.Count > 0))
        {
            sb.Append("    note right of ").Append(s.Name).Append('\n');
            foreach (var h in s.RequiredHistory)
            {
                sb.Append("        only after ").Append(h).Append('\n');
            }

            foreach (var (name, c) in s.Invariants)
            {
                sb.Append("        invariant ").Append(name).Append(": ").Append(c.ToString().Replace(":", "", StringComparison.Ordinal)).Append('\n');
            }

            foreach (var (f, v) in s.Effects)
            {
                sb.Append("        sets ").Append(f.Column).Append(" = ").Append(Condition.Literal(v)).Append('\n');
            }

            sb.Append("    end note\n");
        }

        return sb.ToString();
    }

    public static string Dot(MachineModel m)
    {
        var sb = new StringBuilder();
        sb.Append("digraph \"").Append(m.Name).Append("\" {\n");
        sb.Append("    rankdir=LR;\n");
        sb.Append("    node [shape=box, style=rounded];\n");
        sb.Append("    \"__start\" [shape=point, label=\"\"];\n");
        foreach (var s in m.States)
        {
            sb.Append("    \"").Append(s.Name).Append('"').Append(s.IsTerminal ? " [peripheries=2]" : "").Append(";\n");
        }

        sb.Append("    \"__start\" -> \"").Append(m.Initial).Append("\";\n");
        foreach (var t in m.Transitions)
        {
            sb.Append("    \"").Append(t.From).Append("\" -> \"").Append(t.To).Append("\" [label=\"").Append(Label(t)).Append("\"];\n");
        }

        sb.Append("}\n");
        return sb.ToString();
    }

    private static string Label(TransitionModel t) =>
        t.Guards.Count == 0 ? t.Trigger : $"{t.Trigger} [{string.Join(", ", t.Guards.Select(g => g.Name))}]";
}
