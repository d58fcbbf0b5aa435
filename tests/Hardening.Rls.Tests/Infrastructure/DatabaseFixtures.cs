
namespace Hardening.Rls.Tests.Infrastructure;

/// <summary>
/// One ATS database per test class (xunit creates a class instance per test, so not per instance), migrated for
/// <see cref="Role"/> unless <c>migrate</c> is false, with the connections and the lint the attack tests use.
/// Subclasses add their own roles and rows in <see cref="SetUpAsync"/>.
/// </summary>
public abstract class MigratedDatabaseFixture(string prefix, string role, bool migrate = true) : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public string Database { get; private set; } = "";

    /// <summary>The application role the database is migrated for.</summary>
    public string Role => role;

    /// <summary>The superuser on this database, unpooled (tests change roles and settings).</summary>
    public string OwnerConnectionString => Server.ForDatabase(Database) + ";Pooling=false";

    /// <summary>The application role on this database, unpooled, logging in without a password (trust on loopback).</summary>
    public string AppConnectionString => new NpgsqlConnectionStringBuilder(Server.ForDatabase(Database)) { Username = Role, Password = null, Pooling = false }.ConnectionString;

    public async Task InitializeAsync()
    {
        Server = await PostgresServer.Shared;
        Database = await AtsDatabase.CreateAsync(Server, prefix, migrate ? role : null);
        await SetUpAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Opens <paramref name="connectionString"/>.</summary>
    public static async Task<NpgsqlConnection> OpenAsync(string connectionString)
    {
        var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        return conn;
    }

    /// <summary>Lints as the superuser for <see cref="Role"/> (on <paramref name="connection"/> when given, to see its uncommitted changes).</summary>
    public async Task<IReadOnlyList<RlsFinding>> LintAsync(NpgsqlConnection? connection = null, bool probePolicies = false)
    {
        var linter = new RlsLinter(new RlsLintOptions { AppRole = Role, ProbePolicies = probePolicies });
        if (connection is not null)
        {
            return (await linter.LintAsync(connection)).Findings;
        }

        await using var ds = NpgsqlDataSource.Create(OwnerConnectionString);
        return (await linter.LintAsync(ds)).Findings;
    }

    /// <summary>Roles and rows of the subclass, after the database exists.</summary>
    protected virtual Task SetUpAsync() => Task.CompletedTask;
}

/// <summary>Migrated for the harness's application role <c>hardening_app</c>.</summary>
public sealed class AppRoleDatabaseFixture() : MigratedDatabaseFixture("rls_app", PostgresServer.AppRole);

/// <summary>Migrated for a role of its own, which tests may alter inside rolled-back transactions.</summary>
public sealed class LintDatabaseFixture() : MigratedDatabaseFixture("rls_lint", AtsDatabase.UniqueRole("lint_app"));
