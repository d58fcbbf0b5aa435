namespace Hardening.Rls.Tests.Infrastructure;

/// <summary>One migrated ATS database per test class (xunit creates a class instance per test, so not per instance).</summary>
public abstract class MigratedDatabaseFixture(string prefix, string role) : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public string Database { get; private set; } = "";

    public string Role => role;

    public async Task InitializeAsync()
    {
        Server = await PostgresServer.Shared;
        Database = await AtsDatabase.CreateAsync(Server, prefix, role);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>Migrated for the harness's application role <c>hardening_app</c>.</summary>
public sealed class AppRoleDatabaseFixture() : MigratedDatabaseFixture("rls_app", PostgresServer.AppRole);

/// <summary>Migrated for a role of its own, which tests may alter inside rolled-back transactions.</summary>
public sealed class LintDatabaseFixture() : MigratedDatabaseFixture("rls_lint", AtsDatabase.UniqueRole("lint_app"));
