using Hardening.Auth;
using Hardening.Rls;
using Hardening.Sse;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging;

namespace Hardening.Observability.Tests;

/// <summary>
/// Every options class of every package, one invalid value at a time: the host refuses to start, with a message that
/// names the option. The cases are generated from one table; the last test checks the table covers every options
/// class registered through the options pattern.
/// </summary>
public sealed class OptionsValidationTests
{
    private static readonly Dictionary<string, (Type Options, Action<IServiceCollection> Register)> Cases = new()
    {
        ["PasswordHasherOptions.Cost"] = (typeof(PasswordHasherOptions), s => s.AddHardeningPasswordHasher(o => o.Cost = 3)),
        ["PasswordHasherOptions.Pepper"] = (typeof(PasswordHasherOptions), s => s.AddHardeningPasswordHasher(o => o.Pepper = "short")),
        ["PasswordHasherOptions.MaxPasswordLength"] = (typeof(PasswordHasherOptions), s => s.AddHardeningPasswordHasher(o => o.MaxPasswordLength = 0)),
        ["TokenReplayGuardOptions.KeyPrefix"] = (typeof(TokenReplayGuardOptions), s => s.AddHardeningTokenReplayGuard(o => o.KeyPrefix = "a {b}")),
        ["TokenReplayGuardOptions.StoreTimeout"] = (typeof(TokenReplayGuardOptions), s => s.AddHardeningTokenReplayGuard(o => o.StoreTimeout = TimeSpan.Zero)),
        ["TokenReplayGuardOptions.MaxInMemoryEntries"] = (typeof(TokenReplayGuardOptions), s => s.AddHardeningTokenReplayGuard(o => o.MaxInMemoryEntries = 0)),
        ["LoginThrottleOptions.AccountAndIp.Window"] = (typeof(LoginThrottleOptions), s => s.AddHardeningLoginThrottle(o => o.AccountAndIp.Window = TimeSpan.Zero)),
        ["LoginThrottleOptions.Ip.Threshold"] = (typeof(LoginThrottleOptions), s => s.AddHardeningLoginThrottle(o => o.Ip.Threshold = -1)),
        ["LoginThrottleOptions.Account.MaxLockout"] = (typeof(LoginThrottleOptions), s => s.AddHardeningLoginThrottle(o => o.Account.MaxLockout = TimeSpan.FromSeconds(1))),
        ["LoginThrottleOptions.KeyPrefix"] = (typeof(LoginThrottleOptions), s => s.AddHardeningLoginThrottle(o => o.KeyPrefix = "")),
        ["LoginThrottleOptions.StoreTimeout"] = (typeof(LoginThrottleOptions), s => s.AddHardeningLoginThrottle(o => o.StoreTimeout = TimeSpan.FromHours(1))),
        ["RlsOptions.TenantClaimType"] = (typeof(RlsOptions), s => s.AddHardeningRls(o => o.TenantClaimType = " ")),
        ["RlsOptions.TenantHeaderName"] = (typeof(RlsOptions), s => s.AddHardeningRls(o => o.TenantHeaderName = "X Tenant")),
        ["RlsOptions.DataSource.TenantSetting"] = (typeof(RlsOptions), s => s.AddHardeningRls(o => o.DataSource.TenantSetting = "tenant id")),
        ["RlsOptions.Lint.TenantColumn"] = (typeof(RlsOptions), s => s.AddHardeningRls(o => o.Lint.TenantColumn = "bad column")),
        ["SseOptions.RetentionCount"] = (typeof(SseOptions), s => s.AddHardeningSse(o => o.RetentionCount = 0)),
        ["SseOptions.HeartbeatInterval"] = (typeof(SseOptions), s => s.AddHardeningSse(o => o.HeartbeatInterval = TimeSpan.Zero)),
        ["SseOptions.RedisKeyPrefix"] = (typeof(SseOptions), s => s.AddHardeningSse(o => o.RedisKeyPrefix = "a*")),
        ["HardeningObservabilityOptions.Prometheus.MaxSeriesPerInstrument"] = (typeof(HardeningObservabilityOptions), s => s.AddHardeningObservability(o => o.Prometheus.MaxSeriesPerInstrument = 0)),
        ["HardeningObservabilityOptions.TenantUsage.MaxTenants"] = (typeof(HardeningObservabilityOptions), s => s.AddHardeningObservability(o => o.TenantUsage.MaxTenants = 0)),
        ["HardeningObservabilityOptions.Readiness.PostgreSqlTimeout"] = (typeof(HardeningObservabilityOptions), s => s.AddHardeningObservability(o => o.Readiness.PostgreSqlTimeout = TimeSpan.Zero)),
        ["HardeningObservabilityOptions.Diagnostics.SampleInterval"] = (typeof(HardeningObservabilityOptions), s => s.AddHardeningObservability(o => o.Diagnostics.SampleInterval = TimeSpan.Zero)),
        ["HardeningObservabilityOptions.Alerts: AlertRuleOptions.AvailabilityObjective"] = (typeof(HardeningObservabilityOptions), s => s.AddHardeningObservability(o => o.Alerts.AvailabilityObjective = 1)),
    };

    public static TheoryData<string> Options => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(Options))]
    public async Task An_invalid_value_stops_the_host_at_start_up_with_a_message_naming_the_option(string option)
    {
        var (type, register) = Cases[option];
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(Npgsql.NpgsqlDataSource.Create("Host=127.0.0.1;Port=1"));
        register(builder.Services);
        using var host = builder.Build();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Equal(type, error.OptionsType);
        Assert.Contains(option, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Valid_defaults_start_and_configure_delegates_run_only_when_the_options_system_builds_an_instance()
    {
        // Microsoft.Extensions.Options builds one instance for IOptions<T> and one for the start-up validation's
        // IOptionsMonitor<T>, each running the delegate; what must never happen is an AddX running it itself.
        var runs = new Dictionary<string, int>();
        var outsideTheFactory = new List<string>();
        void Count(string name)
        {
            runs[name] = runs.GetValueOrDefault(name) + 1;
            if (!Environment.StackTrace.Contains("Microsoft.Extensions.Options.OptionsFactory`1.Create", StringComparison.Ordinal))
            {
                outsideTheFactory.Add(name);
            }
        }

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(Npgsql.NpgsqlDataSource.Create("Host=127.0.0.1;Port=1"));
        builder.Services.AddHardeningPasswordHasher(_ => Count("passwords"));
        builder.Services.AddHardeningTokenReplayGuard(_ => Count("replay"));
        builder.Services.AddHardeningLoginThrottle(_ => Count("throttle"));
        builder.Services.AddHardeningRls(_ => Count("rls"));
        builder.Services.AddHardeningSse(_ => Count("sse"));
        builder.Services.AddHardeningObservability(_ => Count("observability"));
        Assert.Empty(runs); // registering runs nothing
        using var host = builder.Build();
        await host.StartAsync();
        await host.StopAsync();
        Assert.Equal(["observability", "passwords", "replay", "rls", "sse", "throttle"], runs.Keys.Order(StringComparer.Ordinal));
        Assert.Empty(outsideTheFactory);
        Assert.All(runs, r => Assert.InRange(r.Value, 1, 2));
    }

    [Fact]
    public void The_table_covers_every_options_class_registered_with_the_options_pattern()
    {
        // JwtBearerHardeningOptions has one bool and nothing to validate; RedisRateLimiterOptions and SseEndpointOptions
        // are per-policy/per-endpoint arguments checked when the policy or endpoint is added; the nested options
        // (TenantDataSourceOptions, RlsLintOptions, PrometheusExporterOptions, TenantUsageOptions, AlertRuleOptions,
        // ReadinessOptions, DiagnosticsOptions) are validated as part of their parent.
        Type[] unvalidated = [typeof(JwtBearerHardeningOptions), typeof(RedisRateLimiterOptions), typeof(SseEndpointOptions),
            typeof(TenantDataSourceOptions), typeof(RlsLintOptions), typeof(PrometheusExporterOptions), typeof(TenantUsageOptions),
            typeof(AlertRuleOptions), typeof(ReadinessOptions), typeof(DiagnosticsOptions)];
        var all = new[] { "Hardening.Auth", "Hardening.Rls", "Hardening.Fsm", "Hardening.Sse", "Hardening.Observability" }
            .SelectMany(a => System.Reflection.Assembly.Load(a).GetExportedTypes())
            .Where(t => t.Name.EndsWith("Options", StringComparison.Ordinal) && t.IsClass).ToHashSet();
        var covered = Cases.Values.Select(c => c.Options).Concat(unvalidated).ToHashSet();
        Assert.Equal(all.Select(t => t.Name).Order(StringComparer.Ordinal), covered.Select(t => t.Name).Order(StringComparer.Ordinal));
    }
}
