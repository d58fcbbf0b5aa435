
namespace Hardening.Rls.Tests.Infrastructure;

/// <summary>A fresh database with the sample ATS tenant tables, optionally with the generated RLS migration applied.</summary>
internal static class AtsDatabase
{
    public const string Tables = """
        CREATE TABLE jobs (tenant_id uuid NOT NULL, id uuid NOT NULL, title text NOT NULL, open boolean NOT NULL DEFAULT true,
                           PRIMARY KEY (tenant_id, id));
        CREATE TABLE applications (tenant_id uuid NOT NULL, id uuid NOT NULL, job_id uuid NOT NULL, email text NOT NULL,
                                   PRIMARY KEY (tenant_id, id));
        CREATE TABLE notes (tenant_id uuid, body text NOT NULL);
        CREATE TABLE events (tenant_id uuid NOT NULL, id uuid NOT NULL, kind text NOT NULL, PRIMARY KEY (tenant_id, id, kind))
          PARTITION BY LIST (kind);
        CREATE TABLE events_a PARTITION OF events FOR VALUES IN ('a');
        CREATE TABLE events_b PARTITION OF events FOR VALUES IN ('b');
        CREATE VIEW open_jobs AS SELECT tenant_id, id, title FROM jobs WHERE open;
        """;

    public static TenantSchema Model(string appRole) =>
        new TenantSchema(appRole) { AppRoleCanLogin = true }
            .Table("jobs")
            .Table("applications", t => t.References("job_id", "jobs").Unique("email"))
            .Table("notes")
            .Table("events", t => t.Partitions("events_a", "events_b"))
            .View("open_jobs");

    /// <summary>Creates a database with the tables and (when <paramref name="appRole"/> is given) the migration applied.</summary>
    public static async Task<string> CreateAsync(PostgresServer server, string prefix, string? appRole)
    {
        var db = await server.CreateDatabaseAsync(prefix);
        await server.ExecuteAsync(Tables, db);
        if (appRole is not null)
        {
            await server.ExecuteAsync(Model(appRole).GenerateMigration().Up, db);
        }

        return db;
    }

    public static NpgsqlDataSource AppDataSource(PostgresServer server, string db, Action<NpgsqlConnectionStringBuilder>? configure = null)
    {
        var b = new NpgsqlConnectionStringBuilder(server.ForDatabase(db, PostgresServer.AppRole));
        configure?.Invoke(b);
        return NpgsqlDataSource.Create(b.ConnectionString);
    }

    /// <summary>A cluster-unique role name for tests that change the role.</summary>
    public static string UniqueRole(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..30];
}
