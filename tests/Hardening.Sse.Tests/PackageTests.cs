using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Hardening.Sse.Tests;

/// <summary>The conventions every package keeps (<see cref="PackageConventionTests"/>); the public API itself is checked by PublicApiAnalyzers at build time.</summary>
public sealed class PackageTests() : PackageConventionTests("Hardening.Sse")
{
    protected override IEnumerable<(string Method, Action<IServiceCollection, Action> Register, Type[] Resolve)> ConfiguredRegistrations =>
    [
        ("AddHardeningSse", (s, run) => s.AddHardeningSse(_ => run()),
            [typeof(SsePublisher), typeof(IOptions<SseOptions>), typeof(IOptionsMonitor<SseOptions>)]),
    ];
}
