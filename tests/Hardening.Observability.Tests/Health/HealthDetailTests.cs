using System.Net;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Hardening.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Hardening.Observability.Tests.Health;

/// <summary>
/// The anonymous health endpoints (probes cannot authenticate) answer with the status and each check's name and status
/// only: no version, environment, timings, descriptions, error types or check data (pool sizes, hosts, users), whatever
/// the checks report. Only callers allowed by <see cref="ReadinessOptions.DetailPolicy"/> see the detail.
/// </summary>
public sealed class HealthDetailTests : IAsyncLifetime
{
    private const string Secret = "db.internal:5432 user=ats_owner";
    private static readonly HealthStatus[] Statuses = [HealthStatus.Healthy, HealthStatus.Degraded, HealthStatus.Unhealthy];
    private WebApplication _app = null!;
    private Case? _current;

    /// <summary>Checks to report: name, status, whether it reports a description, data and an exception.</summary>
    public sealed record Check(string Name, HealthStatus Status, bool Described, bool WithData, bool Failed);

    public sealed record Case(Check[] Checks);

    public static class Cases
    {
        public static Arbitrary<Case> Arbitrary() =>
            (from n in Gen.Choose(1, 5)
             from checks in Gen.ArrayOf(
                 from status in Gen.Elements(Statuses)
                 from described in ArbMap.Default.GeneratorFor<bool>()
                 from data in ArbMap.Default.GeneratorFor<bool>()
                 from failed in ArbMap.Default.GeneratorFor<bool>()
                 select new Check("", status, described, data, failed), n)
             select new Case([.. checks.Select((c, i) => c with { Name = $"check-{i}" })])).ToArbitrary();
    }

    public async Task InitializeAsync()
    {
        _app = await TestApp.StartAsync(
            b =>
            {
                b.Services.AddAuthorizationBuilder().AddPolicy("operators", p => p.RequireUserName("operator"));
                var health = b.Services.AddHardeningObservability(o => o.Readiness.DetailPolicy = "operators");
                for (var i = 0; i < 5; i++)
                {
                    var index = i;
                    health.AddCheck($"check-{i}", () => Report(index), tags: [HealthCheckNames.ReadyTag]);
                }
            },
            a => a.MapHardeningHealthChecks());
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Property(MaxTest = 100, Arbitrary = [typeof(Cases)])]
    public bool Anonymous_and_unauthorized_callers_get_names_and_statuses_only(Case c)
    {
        _current = c;
        foreach (var client in new[] { _app.Client(), Guest() })
        {
            var (status, body) = Get(client);
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            var expected = c.Checks.Select(x => x.Status).Append(HealthStatus.Healthy).Min();
            if (status != (expected == HealthStatus.Unhealthy ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK)
                || root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).SequenceEqual(["checks", "status"]) is false
                || root.GetProperty("status").GetString() != expected.ToString()
                || body.Contains(Secret, StringComparison.Ordinal) || body.Contains("pool", StringComparison.Ordinal) || body.Contains("Exception", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{status}: {body}");
            }

            var checks = root.GetProperty("checks").EnumerateArray().ToList();
            var shown = checks.Where(x => c.Checks.Any(k => k.Name == x.GetProperty("name").GetString())).ToList();
            if (shown.Count != c.Checks.Length
                || shown.Any(x => x.EnumerateObject().Count() != 2)
                || shown.Any(x => x.GetProperty("status").GetString() != c.Checks.Single(k => k.Name == x.GetProperty("name").GetString()).Status.ToString()))
            {
                throw new InvalidOperationException(body);
            }
        }

        return true;
    }

    [Fact]
    public void An_operator_gets_the_detail()
    {
        _current = new Case([new Check("check-0", HealthStatus.Degraded, true, true, true)]);
        var (_, body) = Get(_app.Client(authenticated: true));
        using var json = JsonDocument.Parse(body);
        Assert.True(json.RootElement.TryGetProperty("version", out _));
        var check = json.RootElement.GetProperty("checks").EnumerateArray().Single(x => x.GetProperty("name").GetString() == "check-0");
        Assert.Equal(Secret, check.GetProperty("description").GetString());
        Assert.Equal(100, check.GetProperty("data").GetProperty("max_pool_size").GetInt32());
        Assert.Equal(nameof(InvalidOperationException), check.GetProperty("error").GetString());
    }

    private HttpClient Guest()
    {
        var client = _app.Client();
        client.DefaultRequestHeaders.Add(TestApp.AuthHeader, "guest");
        return client;
    }

    private static (HttpStatusCode Status, string Body) Get(HttpClient client)
    {
        using var response = client.GetAsync("/health/ready").GetAwaiter().GetResult();
        return (response.StatusCode, response.Content.ReadAsStringAsync().GetAwaiter().GetResult());
    }

    private HealthCheckResult Report(int index)
    {
        if (_current is not { } c || index >= c.Checks.Length)
        {
            return HealthCheckResult.Healthy();
        }

        var k = c.Checks[index];
        return new HealthCheckResult(
            k.Status,
            k.Described ? Secret : null,
            k.Failed ? new InvalidOperationException(Secret) : null,
            k.WithData ? new Dictionary<string, object> { ["max_pool_size"] = 100, ["host"] = Secret } : null);
    }
}
