using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Hardening.Observability.Tests.Health;

/// <summary>The packages' own checks, composed on the builder <c>AddHardeningObservability</c> returns.</summary>
public sealed class PackageHealthCheckTests
{
    public static TheoryData<string, string> Extensions => new()
    {
        { nameof(RlsHealthChecksBuilderExtensions.AddHardeningRlsLintCheck), HealthCheckNames.RlsLint },
        { nameof(AuthHealthChecksBuilderExtensions.AddHardeningTokenReplayStoreCheck), HealthCheckNames.TokenReplayStore },
        { nameof(SseHealthChecksBuilderExtensions.AddHardeningSseStoreCheck), HealthCheckNames.SseStore },
    };

    [Theory]
    [MemberData(nameof(Extensions))]
    public void The_names_observability_lists_are_the_packages_default_check_names(string method, string listed)
    {
        var extension = new[] { typeof(RlsHealthChecksBuilderExtensions), typeof(AuthHealthChecksBuilderExtensions), typeof(SseHealthChecksBuilderExtensions) }
            .Select(t => t.GetMethod(method)).Single(m => m is not null)!;
        var name = extension.GetParameters().Single(p => p.Name == "name");
        Assert.Equal(listed, name.DefaultValue);
    }

    [Fact]
    public async Task Composed_checks_are_tagged_ready_registered_once_and_answer_on_health_ready()
    {
        await using var app = await TestApp.StartAsync(
            b =>
            {
                RealPackages.Register(b.Services);
                b.Services.AddHardeningObservability()
                    .AddHardeningTokenReplayStoreCheck()
                    .AddHardeningSseStoreCheck()
                    .AddHardeningRlsLintCheck();
            },
            a => a.MapHardeningHealthChecks());
        var registrations = app.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations;
        Assert.Equal(new[] { HealthCheckNames.RlsLint, HealthCheckNames.SseStore, HealthCheckNames.TokenReplayStore }.Order(StringComparer.Ordinal), registrations.Select(r => r.Name).Order(StringComparer.Ordinal));
        Assert.All(registrations, r => Assert.Contains(HealthCheckNames.ReadyTag, r.Tags));

        // The database behind the lint is unreachable here: the lint fails closed and readiness names it.
        var response = await app.Client().GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var checks = json.RootElement.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("status").GetString());
        Assert.Equal("Unhealthy", checks[HealthCheckNames.RlsLint]);
        Assert.Equal("Healthy", checks[HealthCheckNames.TokenReplayStore]);
        Assert.Equal("Healthy", checks[HealthCheckNames.SseStore]);
    }

    [Fact]
    public async Task A_check_whose_package_is_not_registered_answers_503_saying_what_to_register_not_500()
    {
        await using var app = await TestApp.StartAsync(
            b => b.Services.AddHardeningObservability(o => o.Readiness.ShowDetail = _ => ValueTask.FromResult(true)) // reads the descriptions
                .AddHardeningTokenReplayStoreCheck()
                .AddHardeningSseStoreCheck()
                .AddHardeningRlsLintCheck(),
            a => a.MapHardeningHealthChecks());
        var response = await app.Client().GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var checks = json.RootElement.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("description").GetString());
        Assert.Contains("AddHardeningTokenReplayGuard", checks[HealthCheckNames.TokenReplayStore], StringComparison.Ordinal);
        Assert.Contains("AddHardeningSse", checks[HealthCheckNames.SseStore], StringComparison.Ordinal);
        Assert.Contains("AddHardeningRls", checks[HealthCheckNames.RlsLint], StringComparison.Ordinal);
    }

    [Fact]
    public void Observability_has_no_hooks_that_duplicate_the_packages_checks()
    {
        var methods = typeof(ObservabilityServiceCollectionExtensions).GetMethods().Select(m => m.Name).ToHashSet();
        Assert.DoesNotContain("AddRlsLinterCheck", methods);
        Assert.DoesNotContain("AddSseBackplaneCheck", methods);
        Assert.DoesNotContain("AddHardeningRedisCheck", methods);
        Assert.DoesNotContain(typeof(ObservabilityServiceCollectionExtensions).Assembly.GetReferencedAssemblies(), a => a.Name == "StackExchange.Redis");
    }
}
