using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Hardening.Observability.Tests.Health;

public sealed class HealthHookTests
{
    [Fact]
    public async Task Rls_linter_errors_and_a_disconnected_sse_backplane_fail_readiness_by_name()
    {
        var errors = 0;
        var backplaneUp = true;
        var liveRuns = 0;
        await using var app = await TestApp.StartAsync(
            b => b.Services.AddHardeningObservability(o => o.Readiness.Version = "1.2.3")
                .AddRlsLinterCheck((_, _) => Task.FromResult(errors))
                .AddSseBackplaneCheck((_, _) => Task.FromResult(backplaneUp))
                .AddCheck("counting", () =>
                {
                    Interlocked.Increment(ref liveRuns);
                    return HealthCheckResult.Healthy();
                }),
            a => a.MapHardeningHealthChecks());
        var client = app.Client();

        var ok = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using (var json = JsonDocument.Parse(await ok.Content.ReadAsStringAsync()))
        {
            Assert.Equal("1.2.3", json.RootElement.GetProperty("version").GetString());
            Assert.Equal("Production", json.RootElement.GetProperty("environment").GetString());
            Assert.True(json.RootElement.GetProperty("durationMs").GetDouble() >= 0);
            Assert.Equal(["rls", "sse-backplane"], json.RootElement.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        }

        errors = 2;
        backplaneUp = false;
        var bad = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, bad.StatusCode);
        using (var json = JsonDocument.Parse(await bad.Content.ReadAsStringAsync()))
        {
            var checks = json.RootElement.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c);
            Assert.Equal("Unhealthy", checks["rls"].GetProperty("status").GetString());
            Assert.Contains("2 error finding", checks["rls"].GetProperty("description").GetString(), StringComparison.Ordinal);
            Assert.Equal("Unhealthy", checks["sse-backplane"].GetProperty("status").GetString());
        }

        // Liveness runs no checks at all, not even untagged ones.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(0, liveRuns);
    }
}
