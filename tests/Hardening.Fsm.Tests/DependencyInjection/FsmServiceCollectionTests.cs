using System.Globalization;
using Hardening.Fsm.Tests.Machine;
using Hardening.Fsm.Tests.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace Hardening.Fsm.Tests.DependencyInjection;

public sealed class FsmServiceCollectionTests
{
    private static void Define(StateMachineBuilder<Candidate> b)
    {
        b.InitialState("APPLIED");
        b.Configure("APPLIED").Permit("screen", "SCREENING");
        b.Configure("SCREENING").Terminal();
    }

    [Fact]
    public void Registered_machine_is_a_singleton_using_the_container_clock_and_sinks()
    {
        var clock = new FakeTimeProvider();
        var sink = new StateMachineTests.ListSink();
        var services = new ServiceCollection()
            .AddSingleton<TimeProvider>(clock)
            .AddSingleton<ITransitionAuditSink>(sink)
            .AddHardeningStateMachine<Candidate>("candidate", c => c.Id.ToString(CultureInfo.InvariantCulture), Define);
        using var sp = services.BuildServiceProvider();

        var machine = sp.GetRequiredService<StateMachine<Candidate>>();
        Assert.Same(machine, sp.GetRequiredService<StateMachine<Candidate>>());
        var r = machine.TryFire(new Candidate(5), "screen", Actor.User("u"), "why", "APPLIED");

        Assert.True(r.Accepted);
        Assert.Equal(clock.GetUtcNow(), r.Record!.OccurredAt);
        Assert.Same(r.Record, Assert.Single(sink.Records));
    }

    [Fact]
    public void An_invalid_definition_fails_at_resolution_listing_its_problems()
    {
        using var sp = new ServiceCollection()
            .AddHardeningStateMachine<Candidate>("candidate", c => "x", b => b.Configure("A").Permit("go", "B"))
            .BuildServiceProvider();
        var e = Assert.Throws<StateMachineDefinitionException>(() => sp.GetRequiredService<StateMachine<Candidate>>());
        Assert.Contains("No initial state", e.Message, StringComparison.Ordinal);
        Assert.Contains("Dead end: non-terminal state 'B'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Arguments_are_checked()
    {
        var services = new ServiceCollection();
        Assert.Throws<ArgumentNullException>(() => services.AddHardeningStateMachine<Candidate>("c", null!, Define));
        Assert.Throws<ArgumentException>(() => services.AddHardeningStateMachine<Candidate>(" ", c => "x", Define));
    }
}
