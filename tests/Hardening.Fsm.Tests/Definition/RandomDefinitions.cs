using FsCheck;
using FsCheck.Fluent;

namespace Hardening.Fsm.Tests.Definition;

/// <summary>An entity for generated definitions.</summary>
public sealed class Thing : StatefulEntity
{
    public Thing(string state)
        : base(state)
    {
    }

    public bool Flag { get; private set; }

    public bool PublicFlag { get; set; }
}

/// <summary>A valid random definition: a chain S0 -> ... -> Sn-1 (terminal) plus forward shortcuts.</summary>
public sealed record RandomDefinition(int States, (int From, int To)[] Shortcuts)
{
    public static Gen<RandomDefinition> Generator { get; } =
        from n in Gen.Choose(3, 9)
        from edges in Gen.ArrayOf(Gen.Choose(0, n - 1).SelectMany(a => Gen.Choose(0, n - 1), (a, b) => (a, b)))
        select new RandomDefinition(n, [.. edges.Where(e => e.b > e.a + 1 && e.b < n).Distinct()]);

    public static string S(int i) => "S" + i;

    public IEnumerable<(string From, string Trigger, string To)> Transitions =>
        Enumerable.Range(0, States - 1).Select(i => (S(i), "t" + i, S(i + 1)))
            .Concat(Shortcuts.Select(e => (S(e.From), $"e{e.From}_{e.To}", S(e.To))));

    public StateMachineBuilder<Thing> Builder()
    {
        var b = new StateMachineBuilder<Thing>("generated", t => t.State);
        b.InitialState(S(0));
        foreach (var (from, trigger, to) in Transitions)
        {
            b.Configure(from).Permit(trigger, to);
        }

        b.Configure(S(States - 1)).Terminal();
        return b;
    }

    public override string ToString() => $"{States} states, shortcuts [{string.Join(", ", Shortcuts.Select(e => $"{e.From}->{e.To}"))}]";
}
