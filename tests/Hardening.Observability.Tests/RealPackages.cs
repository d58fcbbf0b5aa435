using System.Diagnostics.Metrics;
using System.Net;
using Hardening.Auth;
using Hardening.Fsm;
using Hardening.Rls;
using Hardening.Sse;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Hardening.Observability.Tests;

/// <summary>
/// The real Hardening packages registered in a test app, so that the exporter, the alert rules and the diagnosis page
/// are checked against the instruments those packages actually publish (names, units, kinds), never against copies.
/// </summary>
internal sealed class RealPackages : IDisposable
{
    public static readonly string[] PackageMeters = [AuthMeters.MeterName, RlsMeters.MeterName, FsmMeters.MeterName, SseMeters.MeterName];

    private readonly MeterListener _listener = new();
    private readonly List<Instrument> _instruments = [];

    private RealPackages(IMeterFactory scope)
    {
        // Collects, without enabling, every instrument the app's own meter factory publishes.
        _listener.InstrumentPublished = (instrument, _) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, scope))
            {
                lock (_instruments)
                {
                    _instruments.Add(instrument);
                }
            }
        };
        _listener.Start();
    }

    /// <summary>Every instrument published so far by the app's meter factory.</summary>
    public IReadOnlyList<Instrument> Instruments
    {
        get
        {
            lock (_instruments)
            {
                return [.. _instruments];
            }
        }
    }

    /// <summary>Registers Auth (hasher, replay guard, login throttle), Rls, one Fsm machine and Sse, all in-process.</summary>
    public static void Register(IServiceCollection services, string? postgres = null)
    {
        services.AddHardeningPasswordHasher();
        services.AddHardeningTokenReplayGuard();
        services.AddHardeningLoginThrottle();
        services.AddSingleton(NpgsqlDataSource.Create(postgres ?? "Host=127.0.0.1;Port=1;Timeout=1"));
        services.AddHardeningRls();
        services.AddHardeningStateMachine<Ticket>("ticket", t => t.Id, b =>
        {
            b.InitialState("open");
            b.Configure("open").Permit("close", "closed");
            b.Configure("closed").Terminal();
        });
        services.AddHardeningSse();
    }

    /// <summary>Resolves the packages' services (which creates their instruments) and drives their code paths once.</summary>
    public static async Task<RealPackages> ExerciseAsync(IServiceProvider services, bool lint)
    {
        var packages = new RealPackages(services.GetRequiredService<IMeterFactory>());

        // Auth: a replayed jti, failed logins up to the throttle.
        var guard = services.GetRequiredService<TokenReplayGuard>();
        var now = DateTimeOffset.UtcNow;
        await guard.ConsumeAsync("https://issuer.test", "jti-1", now, now.AddMinutes(5));
        Assert.Equal(TokenConsumeResult.Replayed, await guard.ConsumeAsync("https://issuer.test", "jti-1", now, now.AddMinutes(5)));
        var login = services.GetRequiredService<PasswordLogin>();
        for (var i = 0; i < 6; i++)
        {
            await login.VerifyAsync("someone@example.com", "wrong", IPAddress.Loopback, (_, _) => ValueTask.FromResult<string?>(null));
        }

        // Fsm: one accepted and one rejected transition.
        var machine = services.GetRequiredService<StateMachine<Ticket>>();
        var ticket = new Ticket();
        Assert.True(machine.TryFire(ticket, "close", Actor.System("test"), "done", "open").Accepted);
        Assert.False(machine.TryFire(ticket, "close", Actor.System("test"), "again", "closed").Accepted);

        // Sse: one published event.
        await services.GetRequiredService<SsePublisher>().PublishAsync("tickets", "closed", "{}");

        // Rls: the linter over the app's database (the gauge reports the latest run), and the mismatch counter.
        var linter = services.GetRequiredService<RlsLinter>();
        if (lint)
        {
            await linter.LintAsync(services.GetRequiredService<NpgsqlDataSource>());
        }

        return packages;
    }

    /// <summary>
    /// Adds one measurement to every synchronous instrument of the package meters that the code paths above did not
    /// reach (on the packages' own instrument objects, so names, units and kinds stay theirs).
    /// </summary>
    public void RecordOnTheRest(Random random)
    {
        foreach (var instrument in Instruments.Where(i => PackageMeters.Contains(i.Meter.Name)))
        {
            switch (instrument)
            {
                case Counter<long> c:
                    c.Add(random.Next(1, 5));
                    break;
                case UpDownCounter<long> u:
                    u.Add(random.Next(1, 5));
                    break;
                case Histogram<double> h:
                    for (var i = 0; i < 20; i++)
                    {
                        h.Record(random.NextDouble() * 3);
                    }

                    break;
            }
        }
    }

    public void Dispose() => _listener.Dispose();

    internal sealed class Ticket : StatefulEntity
    {
        public Ticket()
            : base("open")
        {
        }

        public string Id { get; } = Guid.NewGuid().ToString("N");
    }
}
