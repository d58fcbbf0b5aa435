using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Hardening.Observability.Tests;

/// <summary>The conventions every package keeps (<see cref="PackageConventionTests"/>); the public API itself is checked by PublicApiAnalyzers at build time.</summary>
public sealed class PackageTests() : PackageConventionTests("Hardening.Observability")
{
    protected override IEnumerable<(string Method, Action<IServiceCollection, Action> Register, Type[] Resolve)> ConfiguredRegistrations =>
    [
        ("AddHardeningObservability", (s, run) => s.AddHardeningObservability(_ => run()),
            [typeof(IOptions<HardeningObservabilityOptions>), typeof(IOptionsMonitor<HardeningObservabilityOptions>), typeof(Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService)]),
    ];
}
