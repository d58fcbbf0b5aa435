using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Hardening.Fsm.Tests.Definition;
using Hardening.Fsm.Tests.Pipeline;

namespace Hardening.Fsm.Tests.Export;

public sealed partial class GraphExportTests
{
    [Property(MaxTest = 200)]
    public Property Mermaid_and_dot_exports_list_exactly_the_states_and_transitions()
    {
        return Prop.ForAll(RandomDefinition.Generator.ToArbitrary(), d =>
        {
            var m = d.Builder().Build();
            var expected = d.Transitions.ToHashSet();
            var states = Enumerable.Range(0, d.States).Select(RandomDefinition.S).ToHashSet();

            var (mStates, mEdges) = ParseMermaid(m.ToMermaid());
            Assert.Equal(expected, mEdges);
            Assert.Equal(states, mStates);

            var (dStates, dEdges) = ParseDot(m.ToDot());
            Assert.Equal(expected, dEdges);
            Assert.Equal(states, dStates);
        });
    }

    [Fact]
    public void Pipeline_mermaid_marks_start_terminals_and_guards()
    {
        var mermaid = CandidatePipeline.Build().ToMermaid();
        Assert.StartsWith("stateDiagram-v2\n    [*] --> APPLIED\n", mermaid, StringComparison.Ordinal);
        Assert.Contains("    LEFT_COMPANY --> [*]\n", mermaid, StringComparison.Ordinal);
        Assert.Contains("    INTERVIEW --> OFFER : make_offer [has_salary]\n", mermaid, StringComparison.Ordinal);
        Assert.Contains("        sets is_blacklisted = true\n", mermaid, StringComparison.Ordinal);
        var dot = CandidatePipeline.Build().ToDot();
        Assert.Contains("\"LEFT_COMPANY\" [peripheries=2];", dot, StringComparison.Ordinal);
    }

    private static (HashSet<string> States, HashSet<(string, string, string)> Edges) ParseMermaid(string text)
    {
        var states = new HashSet<string>();
        var edges = new HashSet<(string, string, string)>();
        foreach (var line in text.Split('\n').Select(l => l.Trim()))
        {
            var m = MermaidEdge().Match(line);
            if (!m.Success)
            {
                continue;
            }

            foreach (var s in new[] { m.Groups[1].Value, m.Groups[2].Value }.Where(s => s != "[*]"))
            {
                states.Add(s);
            }

            if (m.Groups[3].Success)
            {
                edges.Add((m.Groups[1].Value, m.Groups[3].Value, m.Groups[2].Value));
            }
        }

        return (states, edges);
    }

    private static (HashSet<string> States, HashSet<(string, string, string)> Edges) ParseDot(string text)
    {
        var states = new HashSet<string>();
        var edges = new HashSet<(string, string, string)>();
        foreach (var line in text.Split('\n').Select(l => l.Trim()))
        {
            var e = DotEdge().Match(line);
            if (e.Success)
            {
                edges.Add((e.Groups[1].Value, e.Groups[3].Value, e.Groups[2].Value));
                continue;
            }

            var n = DotNode().Match(line);
            if (n.Success && n.Groups[1].Value != "__start")
            {
                states.Add(n.Groups[1].Value);
            }
        }

        return (states, edges);
    }

    [GeneratedRegex(@"^(\S+) --> (\S+)(?: : (\w+))?")]
    private static partial Regex MermaidEdge();

    [GeneratedRegex("^\"(\\w+)\" -> \"(\\w+)\" \\[label=\"(\\w+)")]
    private static partial Regex DotEdge();

    [GeneratedRegex("^\"(\\w+)\"( \\[.*\\])?;$")]
    private static partial Regex DotNode();
}
