using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Hardening.Observability.Tests.Health;

public sealed class PostgreSqlHealthTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task Readiness_is_503_naming_postgresql_when_it_is_stopped_and_liveness_stays_200()
    {
        var server = await PostgresServer.StartAsync();
        await using var dataSource = NpgsqlDataSource.Create(server.ForDatabase("postgres") + ";Timeout=2");
        await using var app = await StartAppAsync(dataSource);
        var client = app.Client(authenticated: true);

        var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using (var json = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()))
        {
            Assert.Equal("Healthy", json.RootElement.GetProperty("status").GetString());
            var check = json.RootElement.GetProperty("checks").EnumerateArray().Single();
            Assert.Equal("postgresql", check.GetProperty("name").GetString());
            Assert.True(check.GetProperty("data").GetProperty("max_pool_size").GetInt32() > 0);
        }

        await server.DisposeAsync();

        var down = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        var downText = await down.Content.ReadAsStringAsync();
        using (var json = JsonDocument.Parse(downText))
        {
            Assert.Equal("Unhealthy", json.RootElement.GetProperty("status").GetString());
            var check = json.RootElement.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "postgresql");
            Assert.Equal("Unhealthy", check.GetProperty("status").GetString());
            Assert.True(check.TryGetProperty("error", out _));
            Assert.DoesNotContain("127.0.0.1", downText, StringComparison.Ordinal);
        }

        var live = await client.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using (var json = JsonDocument.Parse(await live.Content.ReadAsStringAsync()))
        {
            Assert.Equal("Healthy", json.RootElement.GetProperty("status").GetString());
            Assert.Empty(json.RootElement.GetProperty("checks").EnumerateArray());
        }

        // The failed readiness run also feeds the gauge the PostgresDown alert reads.
        var samples = Exposition.Parse(app.Services.GetRequiredService<PrometheusExporter>().Scrape());
        Assert.Equal(0, samples.Single(s => s.Name == "hardening_health_check_status" && s.Label("check") == "postgresql").Value);
    }

    [Fact]
    public async Task A_thousand_readiness_runs_open_no_physical_connections_beyond_the_pool()
    {
        var applicationName = $"obs-ready-{Guid.NewGuid():N}"[..30];
        var connectionString = new NpgsqlConnectionStringBuilder(postgres.Server.ForDatabase("postgres"))
        {
            ApplicationName = applicationName,
            MaxPoolSize = 3,
        }.ConnectionString;
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var app = await StartAppAsync(dataSource);
        var health = app.Services.GetRequiredService<HealthCheckService>();

        var warmup = await health.CheckHealthAsync(r => r.Tags.Contains(HealthCheckNames.ReadyTag));
        Assert.Equal(HealthStatus.Healthy, warmup.Status);
        var before = await BackendsAsync(applicationName);
        Assert.InRange(before.Count, 1, 3);

        // The background health publisher may run a check concurrently, so the pool may legitimately grow to a
        // second connection; what must not happen is churn: every backend ever seen fits in the pool.
        var seen = new HashSet<string>(before);
        var client = app.Client();
        for (var i = 0; i < 1000; i++)
        {
            if (i % 50 == 0)
            {
                seen.UnionWith(await BackendsAsync(applicationName));
            }

            if (i % 2 == 0)
            {
                Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(r => r.Tags.Contains(HealthCheckNames.ReadyTag))).Status);
            }
            else
            {
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
            }
        }

        var after = await BackendsAsync(applicationName);
        seen.UnionWith(after);
        Assert.InRange(after.Count, 1, 3);
        Assert.True(seen.Count <= 3, $"Readiness opened physical connections beyond the pool of 3: {string.Join(", ", seen)}");
    }

    private async Task<List<string>> BackendsAsync(string applicationName)
    {
        await using var conn = new NpgsqlConnection(postgres.Server.ForDatabase("postgres") + ";Pooling=false");
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT pid::text || '@' || backend_start::text FROM pg_stat_activity WHERE application_name = $1 ORDER BY 1", conn);
        cmd.Parameters.AddWithValue(applicationName);
        var result = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            result.Add(reader.GetString(0));
        }

        return result;
    }

    private static Task<WebApplication> StartAppAsync(NpgsqlDataSource dataSource) =>
        TestApp.StartAsync(
            b =>
            {
                b.Services.AddSingleton(dataSource);
                b.Services.AddAuthorizationBuilder().AddPolicy("operators", p => p.RequireUserName("operator"));
                b.Services.AddHardeningObservability(o =>
                {
                    o.Readiness.PostgreSqlTimeout = TimeSpan.FromSeconds(3);
                    o.Readiness.DetailPolicy = "operators"; // the assertions below read the detail
                }).AddHardeningPostgreSqlCheck();
            },
            a => a.MapHardeningHealthChecks());
}
