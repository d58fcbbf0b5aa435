using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Hardening.Observability.Tests.Diagnostics;

public sealed class DiagnosisPageTests
{
    [Fact]
    public async Task Diagnosis_requires_authorization()
    {
        await using var app = await StartAsync(new FakeTimeProvider());
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client().GetAsync("/diagnostics")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client(authenticated: true).GetAsync("/diagnostics")).StatusCode);
    }

    [Fact]
    public async Task Diagnosis_shows_readiness_metric_values_percentiles_and_alerts_that_would_fire()
    {
        var time = new FakeTimeProvider();
        await using var app = await StartAsync(time);
        var ingestion = app.Services.GetRequiredService<IngestionTelemetry>();
        long depth = 150;
        using var queue = ingestion.TrackQueue("resumes", () => depth);
        for (var i = 0; i < 100; i++)
        {
            ingestion.RecordParseDuration(0.3);
        }

        var client = app.Client(authenticated: true);
        using (var page = await GetAsync(client))
        {
            var root = page.RootElement;
            Assert.Equal("Unhealthy", root.GetProperty("readiness").GetProperty("status").GetString());
            Assert.Contains(root.GetProperty("readiness").GetProperty("checks").EnumerateArray(), c => c.GetProperty("name").GetString() == HealthCheckNames.TokenReplayStore && c.GetProperty("status").GetString() == "Unhealthy");

            var metrics = root.GetProperty("metrics").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);
            var depthSeries = metrics["hardening_ingestion_queue_depth"].GetProperty("series").EnumerateArray().Single();
            Assert.Equal("resumes", depthSeries.GetProperty("labels").GetProperty("queue").GetString());
            Assert.Equal(150, depthSeries.GetProperty("value").GetDouble());
            var percentiles = metrics["hardening_ingestion_parse_duration_seconds"].GetProperty("percentiles");
            Assert.InRange(percentiles.GetProperty("p50").GetDouble(), 0.1, 0.5);
            Assert.InRange(percentiles.GetProperty("p99").GetDouble(), 0.1, 0.5);

            var alerts = Alerts(root);
            Assert.Equal(AlertRulePresets.Create().Count, alerts.Count);
            Assert.True(alerts["HardeningResumeBacklogHigh"]);
            Assert.True(alerts["HardeningRedisDown"]);
            Assert.False(alerts["HardeningPostgresDown"]);
            Assert.False(alerts["HardeningLoginFailureSpike"]);
        }

        depth = 100;
        using (var page = await GetAsync(client))
        {
            Assert.False(Alerts(page.RootElement)["HardeningResumeBacklogHigh"]);
        }
    }

    [Fact]
    public async Task Windowed_rules_are_evaluated_on_sampled_history()
    {
        var time = new FakeTimeProvider();
        await using var app = await StartAsync(time);
        var failures = app.Services.GetRequiredService<IMeterFactory>().Create(HardeningMeters.Auth).CreateCounter<long>("hardening.auth.login.failures");
        var client = app.Client(authenticated: true);
        failures.Add(1);
        (await GetAsync(client)).Dispose();

        time.Advance(TimeSpan.FromMinutes(5));
        failures.Add(1000);
        using (var page = await GetAsync(client))
        {
            Assert.True(Alerts(page.RootElement)["HardeningLoginFailureSpike"]);
        }

        time.Advance(TimeSpan.FromMinutes(5));
        failures.Add(10);
        using (var page = await GetAsync(client))
        {
            Assert.False(Alerts(page.RootElement)["HardeningLoginFailureSpike"]);
        }
    }

    private static Dictionary<string, bool> Alerts(JsonElement root) =>
        root.GetProperty("alerts").EnumerateArray().ToDictionary(a => a.GetProperty("name").GetString()!, a => a.GetProperty("conditionMet").GetBoolean());

    private static async Task<JsonDocument> GetAsync(HttpClient client)
    {
        var response = await client.GetAsync("/diagnostics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    private static Task<WebApplication> StartAsync(FakeTimeProvider time) =>
        TestApp.StartAsync(
            b =>
            {
                b.Services.AddSingleton<TimeProvider>(time);
                b.Services.AddHardeningObservability()
                    .AddHardeningReadinessCheck(HealthCheckNames.PostgreSql, (_, _) => Task.FromResult(HealthCheckResult.Healthy()))
                    .AddHardeningReadinessCheck(HealthCheckNames.TokenReplayStore, (_, _) => Task.FromResult(HealthCheckResult.Unhealthy("down")));
            },
            a => a.MapHardeningDiagnostics());
}
