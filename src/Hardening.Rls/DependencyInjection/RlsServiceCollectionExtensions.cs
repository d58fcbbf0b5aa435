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
    /// the <see cref="NpgsqlDataSource"/> you registered and the <see cref="RlsLinter"/>; options are validated at start-up.
    /// Add the linter's readiness check with <c>AddHealthChecks().AddHardeningRlsLintCheck()</c> and
    /// <c>app.UseHardeningRls()</c> after authentication for the tenant-header check.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Adjusts <see cref="RlsOptions"/>.</param>
    /// <returns>The services.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddSingleton(NpgsqlDataSource.Create(builder.Configuration.GetConnectionString("app")!));
    /// builder.Services.AddHardeningRls(o => { o.TenantClaimType = "tid"; o.Lint.AppRole = "ats_app"; });
    /// builder.Services.AddHealthChecks().AddHardeningRlsLintCheck();
    /// // in an endpoint: (TenantDataSource db, ITenantContext tenant) => db.OpenSessionAsync(tenant) ...
    /// </code>
    /// </example>
    public static IServiceCollection AddHardeningRls(this IServiceCollection services, Action<RlsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<RlsOptions>();
        services.AddSingleOptionsInstance<RlsOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RlsOptions>, RlsOptionsValidator>());
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
}
