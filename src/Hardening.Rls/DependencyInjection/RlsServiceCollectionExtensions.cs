using Hardening.Shared;
using Hardening.Rls;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Hardening.Rls.</summary>
public static class RlsServiceCollectionExtensions
{
    /// <summary>
    /// Registers the claim-based scoped <see cref="ITenantContext"/>, a singleton <see cref="TenantDataSource"/> over
    /// the <see cref="NpgsqlDataSource"/> you registered, the <see cref="RlsLinter"/> and (by default) its readiness
    /// health check (tag <c>ready</c>). Add <c>app.UseHardeningRls()</c> after authentication for the tenant-header check.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Adjusts <see cref="RlsOptions"/>.</param>
    /// <returns>The services.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddSingleton(NpgsqlDataSource.Create(builder.Configuration.GetConnectionString("app")!));
    /// builder.Services.AddHardeningRls(o => { o.TenantClaimType = "tid"; o.Lint.AppRole = "ats_app"; });
    /// // in an endpoint: (TenantDataSource db, ITenantContext tenant) => db.OpenSessionAsync(tenant) ...
    /// </code>
    /// </example>
    public static IServiceCollection AddHardeningRls(this IServiceCollection services, Action<RlsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<RlsOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.Validate(Validate).ValidateOnStart();
        services.AddHttpContextAccessor();
        services.AddMetrics();
        services.TryAddSingleton<RlsMetrics>();
        services.TryAddScoped<ITenantContext, HttpTenantContext>();
        services.TryAddSingleton(sp =>
        {
            var dataSource = sp.GetService<NpgsqlDataSource>()
                ?? throw new InvalidOperationException("AddHardeningRls needs an NpgsqlDataSource in the container: register one with services.AddSingleton(NpgsqlDataSource.Create(connectionString)), connecting as the application role.");
            return new TenantDataSource(dataSource, sp.GetRequiredService<IOptions<RlsOptions>>().Value.DataSource, sp.GetService<ILogger<TenantDataSource>>());
        });
        services.TryAddSingleton(sp => new RlsLinter(LintOptions(sp.GetRequiredService<IOptions<RlsOptions>>().Value), sp.GetRequiredService<RlsMetrics>(), sp.GetService<ILogger<RlsLinter>>()));

        var options = new RlsOptions();
        configure?.Invoke(options);
        if (options.AddHealthCheck)
        {
            services.AddHealthChecks().AddCheck<RlsLintHealthCheck>(options.HealthCheckName, tags: ["ready"]);
        }

        return services;
    }

    /// <summary>The lint options, checking the setting names the registered data source uses unless the lint names its own.</summary>
    private static RlsLintOptions LintOptions(RlsOptions o)
    {
        var lint = o.Lint;
        var defaults = new RlsLintOptions();
        if (lint.TenantSetting != defaults.TenantSetting || lint.UserSetting != defaults.UserSetting || lint.RolesSetting != defaults.RolesSetting)
        {
            return lint;
        }

        var copy = new RlsLintOptions
        {
            AppRole = lint.AppRole,
            TenantColumn = lint.TenantColumn,
            ProbePolicies = lint.ProbePolicies,
            TenantSetting = o.DataSource.TenantSetting,
            UserSetting = o.DataSource.UserSetting,
            RolesSetting = o.DataSource.RolesSetting,
        };
        foreach (var schema in lint.Schemas)
        {
            copy.Schemas.Add(schema);
        }

        return copy;
    }

    private static bool Validate(RlsOptions o)
    {
        // Throwing gives a message that says what is wrong (returning false would only say "validation failed").
        if (string.IsNullOrWhiteSpace(o.TenantClaimType) || string.IsNullOrWhiteSpace(o.UserClaimType) || string.IsNullOrWhiteSpace(o.RoleClaimType))
        {
            throw new OptionsValidationException(nameof(RlsOptions), typeof(RlsOptions), ["RlsOptions: TenantClaimType, UserClaimType and RoleClaimType must not be empty."]);
        }

        if (o.TenantHeaderName is { } h && (h.Length == 0 || h.Any(c => c <= ' ' || c >= 127 || c == ':')))
        {
            throw new OptionsValidationException(nameof(RlsOptions), typeof(RlsOptions), [$"RlsOptions.TenantHeaderName '{h}' is not a valid HTTP header name; use a token such as 'X-Tenant-Id', or null to disable the check."]);
        }

        try
        {
            PostgresNames.SettingName(o.DataSource.TenantSetting, "tenant", nameof(o.DataSource.TenantSetting));
            PostgresNames.SettingName(o.DataSource.UserSetting, "user", nameof(o.DataSource.UserSetting));
            PostgresNames.SettingName(o.DataSource.RolesSetting, "roles", nameof(o.DataSource.RolesSetting));
            PostgresNames.PlainIdentifier(o.Lint.TenantColumn, "tenant column", nameof(o.Lint.TenantColumn));
            if (o.Lint.AppRole is not null)
            {
                PostgresNames.PlainIdentifier(o.Lint.AppRole, "application role", nameof(o.Lint.AppRole));
            }
        }
        catch (ArgumentException e)
        {
            throw new OptionsValidationException(nameof(RlsOptions), typeof(RlsOptions), [$"RlsOptions: {e.Message}"]);
        }

        return true;
    }
}
