using Hardening.Shared;
using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.Json.Serialization;
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
/// health check registered by <c>AddHardeningRls</c>, or from the command line (<see cref="RunCommandLineAsync"/>).
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

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) }, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

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
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await LintAsync(connection, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Lints the database of the open <paramref name="connection"/>.</summary>
    /// <param name="connection">An open connection.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The findings, errors first.</returns>
    public async Task<RlsLintReport> LintAsync(NpgsqlConnection connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var cmd = new NpgsqlCommand(LintQuery.Sql, connection)
        {
            Parameters =
            {
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)_appRole ?? DBNull.Value },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = _tenantColumn },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = (object?)_schemas ?? DBNull.Value },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = _settings },
            },
        };
        var findings = new List<RlsFinding>();
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
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

    /// <summary>
    /// The command-line linter: <c>--connection &lt;string&gt;</c> (or env <c>HARDENING_RLS_CONNECTION</c>),
    /// <c>--app-role &lt;role&gt;</c>, <c>--tenant-column &lt;column&gt;</c>, <c>--schema &lt;name&gt;</c> (repeatable),
    /// <c>--format text|json</c>. Exit code 0 without errors, 1 when there are error findings, 2 on bad arguments
    /// or when the database cannot be linted.
    /// </summary>
    /// <param name="args">The arguments.</param>
    /// <param name="stdout">Where the report goes.</param>
    /// <param name="stderr">Where usage and failures go.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The process exit code.</returns>
    public static async Task<int> RunCommandLineAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        const string Usage = "usage: hardening-rls-lint --connection <npgsql connection string> [--app-role <role>] [--tenant-column tenant_id] [--schema <name>]... [--format text|json]\n(the connection string may also come from HARDENING_RLS_CONNECTION)";
        string? connection = Environment.GetEnvironmentVariable("HARDENING_RLS_CONNECTION");
        var options = new RlsLintOptions();
        var format = "text";
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                await stdout.WriteLineAsync(Usage).ConfigureAwait(false);
                return 0;
            }

            if (arg is not ("--connection" or "--app-role" or "--tenant-column" or "--schema" or "--format"))
            {
                await stderr.WriteLineAsync($"error: unknown argument '{arg}'.\n{Usage}").ConfigureAwait(false);
                return 2;
            }

            if (i + 1 >= args.Length)
            {
                await stderr.WriteLineAsync($"error: {arg} needs a value.\n{Usage}").ConfigureAwait(false);
                return 2;
            }

            var value = args[++i];
            switch (arg)
            {
                case "--connection": connection = value; break;
                case "--app-role": options.AppRole = value; break;
                case "--tenant-column": options.TenantColumn = value; break;
                case "--schema": options.Schemas.Add(value); break;
                default: format = value; break;
            }
        }

        if (format is not ("text" or "json"))
        {
            await stderr.WriteLineAsync($"error: --format must be 'text' or 'json' (got '{format}').").ConfigureAwait(false);
            return 2;
        }

        if (string.IsNullOrWhiteSpace(connection))
        {
            await stderr.WriteLineAsync($"error: no connection string; pass --connection or set HARDENING_RLS_CONNECTION.\n{Usage}").ConfigureAwait(false);
            return 2;
        }

        RlsLintReport report;
        try
        {
            var linter = new RlsLinter(options);
            await using var dataSource = NpgsqlDataSource.Create(connection);
            report = await linter.LintAsync(dataSource, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ArgumentException or NpgsqlException or InvalidOperationException or TimeoutException)
        {
            await stderr.WriteLineAsync($"error: could not lint: {e.Message}").ConfigureAwait(false);
            return 2;
        }

        if (format == "json")
        {
            await stdout.WriteLineAsync(JsonSerializer.Serialize(report.Findings, Json)).ConfigureAwait(false);
        }
        else
        {
            foreach (var f in report.Findings)
            {
                await stdout.WriteLineAsync($"{(f.Level == RlsFindingLevel.Error ? "error" : "warning")}: {f.Rule}: {f.Object}: {f.Detail}\n    fix: {f.Remediation}").ConfigureAwait(false);
            }

            await stdout.WriteLineAsync($"{report.Errors} error(s), {report.Warnings} warning(s).").ConfigureAwait(false);
        }

        return report.Passed ? 0 : 1;
    }
}
