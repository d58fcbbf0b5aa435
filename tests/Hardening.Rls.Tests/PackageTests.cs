using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Hardening.Rls.Tests;

/// <summary>The conventions every package keeps (<see cref="PackageConventionTests"/>); the public API itself is checked by PublicApiAnalyzers at build time.</summary>
public sealed class PackageTests() : PackageConventionTests("Hardening.Rls")
{
    protected override IEnumerable<(string Method, Action<IServiceCollection, Action> Register, Type[] Resolve)> ConfiguredRegistrations =>
    [
        // The data source is only created here, never opened.
        ("AddHardeningRls", (s, run) => s.AddSingleton(NpgsqlDataSource.Create("Host=127.0.0.1;Port=1")).AddHardeningRls(_ => run()),
            [typeof(TenantDataSource), typeof(RlsLinter), typeof(IOptions<RlsOptions>), typeof(IOptionsMonitor<RlsOptions>)]),
    ];
}
