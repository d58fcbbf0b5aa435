using Hardening.Shared;
using System.Diagnostics.Metrics;
using Hardening.Rls;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace Hardening.Rls;

/// <summary>
/// Connects to a live database and reports how its row-level security can leak: tables without RLS or FORCE,
/// missing or always-true policies, a privileged application role, TRUNCATE/REFERENCES grants, owner-rights views,
/// materialized views, unsafe SECURITY DEFINER functions, keys without the tenant column, unprotected partitions,
/// and a nullable or unindexed tenant column (see <see cref="RlsRules"/>). Use it from code, as the readiness
/// health check registered by <c>AddHardeningRls</c>, or from the command line (<c>tools/Hardening.Rls.Lint</c>, <c>hardening-rls-lint</c>).
/// </summary>
/// <example>
/// <code>
/// var report = await new RlsLinter(new RlsLintOptions { AppRole = "ats_app" }).LintAsync(dataSource);
/// foreach (var f in report.Findings) Console.WriteLine($"{f.Level} {f.Rule} {f.Object}: {f.Detail}\n  {f.Remediation}");
/// </code>
/// </example>
public sealed class RlsLinter
{
    private static readonly Dictionary<string, RlsFindingLevel> Levels = new(StringComparer.Ordinal)
    {
        [RlsRules.AppRoleMissing] = RlsFindingLevel.Error,
        [RlsRules.RlsDisabled] = RlsFindingLevel.Error,
        [RlsRules.RlsNotForced] = RlsFindingLevel.Error,
        [RlsRules.RlsWithoutPolicy] = RlsFindingLevel.Warning,
        [RlsRules.PolicyAlwaysTrue] = RlsFindingLevel.Error,
        [RlsRules.PolicyMissingWithCheck] = RlsFindingLevel.Warning,
        [RlsRules.PolicyPerRowEvaluation] = RlsFindingLevel.Warning,
        [RlsRules.PolicyHelperNotInlinable] = RlsFindingLevel.Warning,
        [RlsRules.AppRoleSuperuser] = RlsFindingLevel.Error,
        [RlsRules.AppRoleBypassRls] = RlsFindingLevel.Error,
        [RlsRules.AppRoleOwnsTenantTable] = RlsFindingLevel.Error,
        [RlsRules.AppRoleReachesPrivilegedRole] = RlsFindingLevel.Error,
        [RlsRules.AppRoleCreateRole] = RlsFindingLevel.Error,
        [RlsRules.AppRoleReplication] = RlsFindingLevel.Error,
        [RlsRules.AppRoleOwnsPolicyFunction] = RlsFindingLevel.Error,
        [RlsRules.ContextSettingDefault] = RlsFindingLevel.Error,
        [RlsRules.PolicyAdmitsWithoutContext] = RlsFindingLevel.Error,
        [RlsRules.PolicyAdmitsOtherTenant] = RlsFindingLevel.Error,
        [RlsRules.PolicyProbeSkipped] = RlsFindingLevel.Warning,
        [RlsRules.TruncateGranted] = RlsFindingLevel.Error,
        [RlsRules.ReferencesGranted] = RlsFindingLevel.Error,
        [RlsRules.ViewWithoutSecurityInvoker] = RlsFindingLevel.Error,
        [RlsRules.MaterializedViewOverTenantTable] = RlsFindingLevel.Error,
        [RlsRules.SecurityDefinerMutableSearchPath] = RlsFindingLevel.Error,
        [RlsRules.SecurityDefinerExecutableByApp] = RlsFindingLevel.Warning,
        [RlsRules.UniqueWithoutTenantColumn] = RlsFindingLevel.Error,
        [RlsRules.ForeignKeyWithoutTenantColumn] = RlsFindingLevel.Error,
        [RlsRules.PartitionWithoutPolicy] = RlsFindingLevel.Error,
        [RlsRules.TenantColumnNullable] = RlsFindingLevel.Error,
        [RlsRules.TenantColumnUnindexed] = RlsFindingLevel.Warning,
    };

    private readonly string? _appRole;
    private readonly string _tenantColumn;
    private readonly string[]? _schemas;
    private readonly string[] _settings;
    private readonly bool _probe;
    private readonly RlsMetrics? _metrics;
    private readonly ILogger _logger;

    /// <summary>Creates a linter.</summary>
    /// <param name="options">What to check; null for the defaults (current_user, <c>tenant_id</c>, every schema).</param>
    /// <param name="meterFactory">Publishes <c>hardening.rls.lint.findings</c> when given.</param>
    /// <param name="logger">Logs findings; null for none.</param>
    /// <exception cref="ArgumentException">The tenant column, role or a schema is not a plain identifier.</exception>
    public RlsLinter(RlsLintOptions? options = null, IMeterFactory? meterFactory = null, ILogger<RlsLinter>? logger = null)
        : this(options, meterFactory is null ? null : new RlsMetrics(meterFactory), logger)
    {
    }

    internal RlsLinter(RlsLintOptions? options, RlsMetrics? metrics, ILogger? logger)
    {
        options ??= new RlsLintOptions();
        _tenantColumn = PostgresNames.PlainIdentifier(options.TenantColumn, "tenant column (RlsLintOptions.TenantColumn)", nameof(options));
        _appRole = options.AppRole is null ? null : PostgresNames.PlainIdentifier(options.AppRole, "application role (RlsLintOptions.AppRole)", nameof(options));
        _schemas = options.Schemas.Count == 0 ? null : [.. options.Schemas.Select(s => PostgresNames.PlainIdentifier(s, "schema (RlsLintOptions.Schemas)", nameof(options)))];
        PostgresNames.SettingName(options.TenantSetting, "RlsLintOptions.TenantSetting", nameof(options));
        PostgresNames.SettingName(options.UserSetting, "RlsLintOptions.UserSetting", nameof(options));
        PostgresNames.SettingName(options.RolesSetting, "RlsLintOptions.RolesSetting", nameof(options));
        _settings = [options.TenantSetting, options.UserSetting, options.RolesSetting];
        _probe = options.ProbePolicies;
        _metrics = metrics;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Lints the database behind <paramref name="dataSource"/>.</summary>
    /// <param name="dataSource">Any role that can read the catalogs will do (the application role can).</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The findings, errors first.</returns>
    public async Task<RlsLintReport> LintAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionDisposal = connection.ConfigureAwait(false);
        return await LintAsync(connection, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Lints the database of the open <paramref name="connection"/>.</summary>
    /// <param name="connection">An open connection.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The findings, errors first.</returns>
    public async Task<RlsLintReport> LintAsync(NpgsqlConnection connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var cmd = new NpgsqlCommand(LintQuery.Sql, connection)
        {
            Parameters =
            {
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)_appRole ?? DBNull.Value },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = _tenantColumn },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = (object?)_schemas ?? DBNull.Value },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = _settings },
            },
        };
        await using var cmdDisposal = cmd.ConfigureAwait(false);
        var findings = new List<RlsFinding>();
        var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var rule = reader.GetString(0);
                findings.Add(new RlsFinding(rule, Levels[rule], reader.GetString(1), reader.GetString(2), reader.GetString(3)));
            }
        }

        // A superuser or BYPASSRLS role is not subject to any policy: that is the finding, probing the policies adds nothing.
        if (_probe && !findings.Any(f => f.Rule is RlsRules.AppRoleMissing or RlsRules.AppRoleSuperuser or RlsRules.AppRoleBypassRls))
        {
            await new PolicyProbe(connection, _appRole, _tenantColumn, _schemas, _settings).RunAsync(findings, cancellationToken).ConfigureAwait(false);
        }

        var report = new RlsLintReport([.. findings.OrderByDescending(f => f.Level).ThenBy(f => f.Rule, StringComparer.Ordinal).ThenBy(f => f.Object, StringComparer.Ordinal)]);
        _metrics?.LintCompleted(report);
        if (report.Findings.Count > 0)
        {
            RlsLog.LintFindings(_logger, report.Errors, report.Warnings, string.Join(", ", report.Findings.Select(f => f.Rule).Distinct()));
        }

        return report;
    }
}
