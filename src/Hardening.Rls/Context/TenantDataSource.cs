using Hardening.Shared;
using Hardening.Rls;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;

namespace Hardening.Rls;

/// <summary>
/// Runs database work for one tenant over the application's <see cref="NpgsqlDataSource"/>. The tenant, user and
/// roles are set with one <c>SELECT set_config(name, $n, true), ...</c> statement that travels in the same
/// round trip as the first command (an <see cref="NpgsqlBatch"/>), is transaction-local, and therefore ends with
/// the transaction: no pooled connection carries it to the next request. Values are always bound parameters.
/// </summary>
/// <remarks>Thread-safe; create one per application (the DI registration does).</remarks>
/// <example>
/// <code>
/// var tenantDb = new TenantDataSource(NpgsqlDataSource.Create(connectionString));
/// await using var session = await tenantDb.OpenSessionAsync(new TenantContext(tenantId));
/// await using var cmd = session.CreateCommand("SELECT name FROM candidates WHERE id = $1");
/// cmd.Parameters.Add(new NpgsqlParameter { Value = candidateId });
/// var name = (string?)await session.ExecuteScalarAsync(cmd); // one round trip: context + query
/// </code>
/// </example>
public sealed class TenantDataSource
{
    private const string MaxValueLengthOption = "TenantDataSourceOptions.MaxValueLength";
    private const int MaxExtraSettings = 64;
    private readonly string _contextSql;
    private readonly string[] _contextNames;
    private readonly int _maxValueLength;
    private readonly int _maxRoles;

    /// <summary>Wraps <paramref name="dataSource"/>; refuses Multiplexing, warns on <c>No Reset On Close</c> and suggests <c>Max Auto Prepare</c> when it is off.</summary>
    /// <param name="dataSource">The application's data source (connect as the non-owner, NOBYPASSRLS application role).</param>
    /// <param name="options">Setting names and limits; null for the defaults.</param>
    /// <param name="logger">Logger for the guard-rail warnings; null for none.</param>
    /// <exception cref="ArgumentException">The data source uses Multiplexing, or a setting name is invalid or repeated.</exception>
    public TenantDataSource(NpgsqlDataSource dataSource, TenantDataSourceOptions? options = null, ILogger<TenantDataSource>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        options ??= new TenantDataSourceOptions();
        var builder = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        if (builder.Multiplexing)
        {
            throw new ArgumentException(
                "The Npgsql data source uses Multiplexing=true; TenantDataSource needs each transaction on its own connection so the tenant context cannot be shared. Remove Multiplexing from the connection string.",
                nameof(dataSource));
        }

        if (builder.NoResetOnClose)
        {
            RlsLog.NoResetOnClose(logger ?? (ILogger)NullLogger.Instance);
        }

        if (builder.MaxAutoPrepare == 0)
        {
            RlsLog.AutoPrepareOff(logger ?? (ILogger)NullLogger.Instance);
        }

        PostgresNames.SettingName(options.TenantSetting, "tenant (TenantDataSourceOptions.TenantSetting)", nameof(options));
        PostgresNames.SettingName(options.UserSetting, "user (TenantDataSourceOptions.UserSetting)", nameof(options));
        PostgresNames.SettingName(options.RolesSetting, "roles (TenantDataSourceOptions.RolesSetting)", nameof(options));
        string[] names = [options.TenantSetting, options.UserSetting, options.RolesSetting];
        if (names.Distinct(StringComparer.OrdinalIgnoreCase).Count() != names.Length)
        {
            throw new ArgumentException(
                $"The tenant, user and roles settings must be three different names (got '{options.TenantSetting}', '{options.UserSetting}', '{options.RolesSetting}'; PostgreSQL setting names ignore case).",
                nameof(options));
        }

        if (options.MaxValueLength is < 1 or > 8192)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxValueLength, "TenantDataSourceOptions.MaxValueLength must be between 1 and 8192.");
        }

        if (options.MaxRoles is < 0 or > 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxRoles, "TenantDataSourceOptions.MaxRoles must be between 0 and 1024.");
        }

        DataSource = dataSource;
        _maxValueLength = options.MaxValueLength;
        _maxRoles = options.MaxRoles;
        TenantSetting = options.TenantSetting;

        // The names are validated setting names, so they are safe as literals; every value is a bound parameter.
        _contextNames = [options.TenantSetting, options.UserSetting, options.RolesSetting];
        _contextSql = PostgresSettings.SetConfigStatement(_contextNames);
    }

    /// <summary>The wrapped data source.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>The setting that carries the tenant id.</summary>
    public string TenantSetting { get; }

    /// <summary>The statement that sets the context (for inspection and tests; values are bound as <c>$1..$3</c>).</summary>
    public string ContextStatement => _contextSql;

    /// <summary>Opens a session for <paramref name="tenant"/>; no round trip happens until the first command.</summary>
    /// <param name="tenant">The tenant context; its tenant id is required.</param>
    /// <param name="cancellationToken">Cancels opening the connection.</param>
    /// <returns>A session; dispose it to return the connection (an open transaction is rolled back).</returns>
    /// <exception cref="MissingTenantException">There is no tenant.</exception>
    /// <exception cref="ArgumentException">A value is too long, holds NUL or an unpaired surrogate, or a role holds ','.</exception>
    public async ValueTask<TenantSession> OpenSessionAsync(ITenantContext tenant, CancellationToken cancellationToken = default)
    {
        var values = Validate(tenant);
        var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return new TenantSession(connection, this, values);
    }

    /// <summary>
    /// Opens a session for <paramref name="tenant"/> whose context statement also sets <paramref name="settings"/>
    /// (transaction-local, values bound as parameters): in the same statement and round trip as the tenant, user
    /// and roles, e.g. the actor context of a Hardening.Fsm table (<c>PostgresTableMapping.ContextSettings</c>).
    /// </summary>
    /// <param name="tenant">The tenant context; its tenant id is required.</param>
    /// <param name="settings">Further settings as name/value pairs, in order; names as for <see cref="TenantDataSourceOptions.TenantSetting"/>.</param>
    /// <param name="bindingSetting">
    /// Null, or a setting that is also set to <c>format('%s %L %L ...', pg_current_xact_id(), value1, value2, ...)</c>
    /// over <paramref name="settings"/>' values, so a trigger can refuse values left by an earlier transaction
    /// (Hardening.Fsm's <c>ContextBindingSetting</c> expects exactly this).
    /// </param>
    /// <param name="cancellationToken">Cancels opening the connection.</param>
    /// <returns>A session; dispose it to return the connection (an open transaction is rolled back).</returns>
    /// <exception cref="MissingTenantException">There is no tenant.</exception>
    /// <exception cref="ArgumentException">A name is invalid or repeated (also against the tenant, user and roles settings), or a value is too long, holds NUL or an unpaired surrogate.</exception>
    /// <example>
    /// <code>
    /// await using var session = await tenantDb.OpenSessionAsync(tenant, mapping.ContextSettings(Actor.User(userId), reason), mapping.ContextBindingSetting);
    /// await session.BeginTransactionAsync();
    /// await using var update = session.CreateCommand("UPDATE candidates SET status = 'HIRED' WHERE id = $1"); // one round trip: BEGIN + context + update
    /// </code>
    /// </example>
    public async ValueTask<TenantSession> OpenSessionAsync(ITenantContext tenant, IEnumerable<KeyValuePair<string, string>> settings, string? bindingSetting = null, CancellationToken cancellationToken = default)
    {
        var values = Validate(tenant);
        values = WithSettings(values, settings, bindingSetting);
        var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return new TenantSession(connection, this, values);
    }

    internal NpgsqlBatchCommand CreateContextCommand(ContextValues values)
    {
        var command = new NpgsqlBatchCommand(values.Sql ?? _contextSql)
        {
            Parameters =
            {
                new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = values.Tenant },
                new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = values.User },
                new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = values.Roles },
            },
        };
        foreach (var extra in values.Extra ?? [])
        {
            command.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = extra });
        }

        return command;
    }

    private ContextValues WithSettings(ContextValues values, IEnumerable<KeyValuePair<string, string>> settings, string? bindingSetting)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var names = new List<string>(_contextNames);
        var extra = new List<string>();
        foreach (var (name, value) in settings)
        {
            PostgresNames.SettingName(name, "extra session", nameof(settings));
            if (names.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"Setting '{name}' is set twice in the session context (PostgreSQL setting names ignore case); give each setting once and not the tenant, user or roles setting.", nameof(settings));
            }

            if (value is null)
            {
                throw new ArgumentException($"The value of setting '{name}' is null; pass \"\" for an empty setting.", nameof(settings));
            }

            PostgresSettings.ValidateValue(value, $"value of setting '{name}'", nameof(settings), _maxValueLength, MaxValueLengthOption);
            names.Add(name);
            extra.Add(value);
            if (extra.Count > MaxExtraSettings)
            {
                throw new ArgumentException($"More than {MaxExtraSettings} extra settings; a session context carries a handful.", nameof(settings));
            }
        }

        if (bindingSetting is not null)
        {
            PostgresNames.SettingName(bindingSetting, "binding", nameof(bindingSetting));
            if (names.Contains(bindingSetting, StringComparer.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"The binding setting '{bindingSetting}' is also one of the settings it binds; use a setting of its own such as 'app.context_binding'.", nameof(bindingSetting));
            }

            if (extra.Count == 0)
            {
                throw new ArgumentException("A binding setting needs at least one setting to bind; pass the settings it covers.", nameof(bindingSetting));
            }
        }

        return values with { Extra = [.. extra], Sql = PostgresSettings.SetConfigStatement(names, bindingSetting, bindFrom: _contextNames.Length) };
    }

    private ContextValues Validate(ITenantContext tenant)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        var tenantId = tenant.TenantId;
        if (string.IsNullOrEmpty(tenantId))
        {
            throw new MissingTenantException();
        }

        PostgresSettings.ValidateValue(tenantId, "tenant id", nameof(tenant), _maxValueLength, MaxValueLengthOption);
        var user = tenant.UserId ?? "";
        PostgresSettings.ValidateValue(user, "user id", nameof(tenant), _maxValueLength, MaxValueLengthOption);
        var roles = tenant.Roles ?? [];
        if (roles.Count > _maxRoles)
        {
            throw new ArgumentException($"The context has {roles.Count} roles; the limit is {_maxRoles} (TenantDataSourceOptions.MaxRoles).", nameof(tenant));
        }

        foreach (var role in roles)
        {
            if (string.IsNullOrEmpty(role))
            {
                throw new ArgumentException("A role in the tenant context is null or empty.", nameof(tenant));
            }

            PostgresSettings.ValidateValue(role, "role", nameof(tenant), _maxValueLength, MaxValueLengthOption, allowComma: false);
        }

        return new ContextValues(tenantId, user, roles.Count == 0 ? "" : string.Join(',', roles));
    }
}

/// <summary>Validated context values.</summary>
internal readonly record struct ContextValues(string Tenant, string User, string Roles)
{
    /// <summary>Values of the extra settings (parameters $4 on), or null.</summary>
    public string[]? Extra { get; init; }

    /// <summary>The context statement when there are extra settings; null for the data source's own.</summary>
    public string? Sql { get; init; }
}
