using Hardening.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Hardening.Observability.Tests.Health;

/// <summary>
/// The PostgreSQL readiness check never resumes on the caller's <see cref="SynchronizationContext"/> (an app that runs
/// it from a context and blocks would deadlock). PostgreSQL is reached through a slow link (each reply held 5 ms).
/// </summary>
public sealed class CallerContextTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task The_postgresql_check_does_not_resume_on_the_callers_context()
    {
        await using var proxy = RoundTripProxy.Start(postgres.Server.Host, postgres.Server.Port, TimeSpan.FromMilliseconds(5));
        await using var dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(postgres.ConnectionString) { Port = proxy.Port }.ConnectionString);
        var services = new ServiceCollection().AddLogging().AddMetrics();
        services.AddSingleton(dataSource);
        services.AddHardeningObservability().AddHardeningPostgreSqlCheck();
        await using var provider = services.BuildServiceProvider();
        var registration = provider.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations.Single(r => r.Name == HealthCheckNames.PostgreSql);
        var check = registration.Factory(provider);
        var context = new CallerContext();

        // The first run opens a connection, the second takes it from the pool.
        for (var i = 0; i < 2; i++)
        {
            var result = await context.Value(() => check.CheckHealthAsync(new HealthCheckContext { Registration = registration }));
            Assert.Equal(HealthStatus.Healthy, result.Status);
        }

        Assert.Equal(0, context.Posts);
    }
}
