using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Hardening.Auth.Tests;

/// <summary>The conventions every package keeps (<see cref="PackageConventionTests"/>); the public API itself is checked by PublicApiAnalyzers at build time.</summary>
public sealed class PackageTests() : PackageConventionTests("Hardening.Auth")
{
    private static readonly string Pepper = Convert.ToBase64String([.. Enumerable.Range(1, 32).Select(i => (byte)i)]);

    protected override IEnumerable<(string Method, Action<IServiceCollection, Action> Register, Type[] Resolve)> ConfiguredRegistrations =>
    [
        ("AddHardeningPasswordHasher", (s, run) => s.AddHardeningPasswordHasher(o => { run(); o.Pepper = Pepper; }),
            [typeof(PasswordHasher), typeof(IOptions<PasswordHasherOptions>), typeof(IOptionsMonitor<PasswordHasherOptions>)]),
        ("AddHardeningTokenReplayGuard", (s, run) => s.AddHardeningTokenReplayGuard(_ => run()),
            [typeof(TokenReplayGuard), typeof(IOptions<TokenReplayGuardOptions>), typeof(IOptionsMonitor<TokenReplayGuardOptions>)]),
        ("AddHardeningLoginThrottle", (s, run) => s.AddHardeningPasswordHasher(o => o.Pepper = Pepper).AddHardeningLoginThrottle(_ => run()),
            [typeof(LoginThrottle), typeof(PasswordLogin), typeof(IOptions<LoginThrottleOptions>), typeof(IOptionsMonitor<LoginThrottleOptions>)]),
    ];
}
