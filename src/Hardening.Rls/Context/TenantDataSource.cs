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
    private readonly string _contextSql;
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

        TenantSettings.ValidateName(options.TenantSetting, "tenant (TenantDataSourceOptions.TenantSetting)", nameof(options));
        TenantSettings.ValidateName(options.UserSetting, "user (TenantDataSourceOptions.UserSetting)", nameof(options));
        TenantSettings.ValidateName(options.RolesSetting, "roles (TenantDataSourceOptions.RolesSetting)", nameof(options));
        if (options.TenantSetting == options.UserSetting || options.TenantSetting == options.RolesSetting || options.UserSetting == options.RolesSetting)
        {
            throw new ArgumentException(
                $"The tenant, user and roles settings must be three different names (got '{options.TenantSetting}', '{options.UserSetting}', '{options.RolesSetting}').",
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

        // The names are validated identifiers, so they are safe as literals; every value is a bound parameter.
        _contextSql = $"SELECT set_config('{options.TenantSetting}', $1, true), set_config('{options.UserSetting}', $2, true), set_config('{options.RolesSetting}', $3, true)";
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

    internal NpgsqlBatchCommand CreateContextCommand(ContextValues values) =>
        new(_contextSql)
        {
            Parameters =
            {
                new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = values.Tenant },
                new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = values.User },
                new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = values.Roles },
            },
        };

    private ContextValues Validate(ITenantContext tenant)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        var tenantId = tenant.TenantId;
        if (string.IsNullOrEmpty(tenantId))
        {
            throw new MissingTenantException();
        }

        TenantSettings.ValidateValue(tenantId, "tenant id", nameof(tenant), _maxValueLength);
        var user = tenant.UserId ?? "";
        TenantSettings.ValidateValue(user, "user id", nameof(tenant), _maxValueLength);
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

            TenantSettings.ValidateValue(role, "role", nameof(tenant), _maxValueLength, allowComma: false);
        }

        return new ContextValues(tenantId, user, roles.Count == 0 ? "" : string.Join(',', roles));
    }
}

/// <summary>Validated context values.</summary>
internal readonly record struct ContextValues(string Tenant, string User, string Roles);
