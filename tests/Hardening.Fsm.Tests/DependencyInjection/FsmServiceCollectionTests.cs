using System.Globalization;
using Hardening.Fsm.Tests.Machine;
using Hardening.Fsm.Tests.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

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

    [Fact]
    public void Two_machines_for_one_entity_type_are_both_kept_and_resolved_by_name()
    {
        using var sp = new ServiceCollection()
            .AddHardeningStateMachine<Candidate>("hiring", c => "x", Define)
            .AddHardeningStateMachine<Candidate>("offboarding", c => "x", b =>
            {
                b.InitialState("APPLIED");
                b.Configure("APPLIED").Permit("archive", "ARCHIVED");
                b.Configure("ARCHIVED").Terminal();
            })
            .BuildServiceProvider();

        var hiring = sp.GetRequiredKeyedService<StateMachine<Candidate>>("hiring");
        var offboarding = sp.GetRequiredKeyedService<StateMachine<Candidate>>("offboarding");
        Assert.Equal(("hiring", "offboarding"), (hiring.Name, offboarding.Name));
        Assert.Equal(["screen"], hiring.PermittedTriggers("APPLIED"));
        Assert.Equal(["archive"], offboarding.PermittedTriggers("APPLIED"));
        Assert.Same(hiring, sp.GetRequiredKeyedService<StateMachine<Candidate>>("hiring"));

        // Without a name the choice is ambiguous: the error names both keys and how to pick one.
        var e = Assert.Throws<InvalidOperationException>(() => sp.GetRequiredService<StateMachine<Candidate>>());
        Assert.Contains("'hiring', 'offboarding'", e.Message, StringComparison.Ordinal);
        Assert.Contains("FromKeyedServices", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_only_machine_for_a_type_also_resolves_without_a_name()
    {
        using var sp = new ServiceCollection().AddHardeningStateMachine<Candidate>("hiring", c => "x", Define).BuildServiceProvider();
        Assert.Same(sp.GetRequiredKeyedService<StateMachine<Candidate>>("hiring"), sp.GetRequiredService<StateMachine<Candidate>>());
    }

    [Fact]
    public void Registering_a_name_twice_for_one_type_is_refused_at_registration()
    {
        var services = new ServiceCollection().AddHardeningStateMachine<Candidate>("hiring", c => "x", Define);
        var e = Assert.Throws<ArgumentException>(() => services.AddHardeningStateMachine<Candidate>("hiring", c => "y", Define));
        Assert.Equal("name", e.ParamName);
        Assert.Contains("'hiring' is already registered for Candidate", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_definition_is_built_when_the_host_starts_not_on_first_use()
    {
        var built = new List<string>();
        var builder = Host.CreateApplicationBuilder();
        builder.Services
            .AddHardeningStateMachine<Candidate>("hiring", c => "x", b => { built.Add("hiring"); Define(b); })
            .AddHardeningStateMachine<Candidate>("second", c => "x", b => { built.Add("second"); Define(b); });
        using var host = builder.Build();
        Assert.Empty(built);
        await host.StartAsync();
        Assert.Equal(["hiring", "second"], built.Order());
        await host.StopAsync();
    }

    [Fact]
    public async Task A_broken_definition_stops_the_host_at_start_up_listing_its_problems()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services
            .AddHardeningStateMachine<Candidate>("hiring", c => "x", Define)
            .AddHardeningStateMachine<Candidate>("broken", c => "x", b => b.Configure("A").Permit("go", "B"));
        using var host = builder.Build();
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("No initial state", e.Message, StringComparison.Ordinal);
        Assert.Contains("Dead end: non-terminal state 'B'", e.Message, StringComparison.Ordinal);
    }
}
