using Hardening.Fsm.Tests.Pipeline;
using Npgsql;

namespace Hardening.Fsm.Tests.Postgres;

/// <summary>A fresh database with the candidates table and the generated enforcement applied.</summary>
public class CandidateDatabase : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public string Database { get; private set; } = null!;

    public string ConnectionString => Server.ForDatabase(Database);

    public string AppConnectionString => Server.ForDatabase(Database, PostgresServer.AppRole);

    public string Script { get; } = CandidatePipeline.Build().ToPostgresSql(CandidatePipeline.Table);

    public async Task InitializeAsync()
    {
        Server = await PostgresServer.Shared;
        Database = await Server.CreateDatabaseAsync("fsm");
        await Server.ExecuteAsync(CandidatePipeline.CreateTableSql, Database);
        await Server.ExecuteAsync(Script, Database); // grants the application role what it needs (mapping.ApplicationRole)
        if (GrantsAfterScript.Length > 0)
        {
            await Server.ExecuteAsync(GrantsAfterScript, Database);
        }
    }

    /// <summary>Grants a DBA runs after the migration (none here).</summary>
    protected virtual string GrantsAfterScript => "";

    public Task DisposeAsync() => Task.CompletedTask;

    public async Task<NpgsqlConnection> OpenAsync(bool asApp = false)
    {
        var conn = new NpgsqlConnection(asApp ? AppConnectionString : ConnectionString);
        await conn.OpenAsync();
        return conn;
    }
}

/// <summary>
/// The same database after the broad grants common in real deployments, run after the migration: every privilege on
/// every table, sequence and function of the schema, and CREATE on it. The guarantees must hold anyway.
/// </summary>
public sealed class HostileGrantsDatabase : CandidateDatabase
{
    public const string BroadGrants = $"""
        GRANT ALL ON ALL TABLES IN SCHEMA public TO {PostgresServer.AppRole};
        GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {PostgresServer.AppRole};
        GRANT ALL ON ALL FUNCTIONS IN SCHEMA public TO {PostgresServer.AppRole};
        GRANT CREATE ON SCHEMA public TO {PostgresServer.AppRole};
        """;

    protected override string GrantsAfterScript => BroadGrants;
}

/// <summary>Small helpers to drive the table the way an application does.</summary>
internal static class CandidateSql
{
    private static long _nextId = 1_000_000;

    /// <summary>
    /// Binds whatever context is set now to this transaction, as <see cref="PostgresTableMapping.SetContextSql"/> does
    /// for the values it sets (for tests that set the three settings one by one).
    /// </summary>
    public const string BindContextSql =
        "SELECT set_config('app.context_binding', format('%s %L %L %L', pg_current_xact_id(), current_setting('app.actor_id', true), current_setting('app.actor_kind', true), current_setting('app.reason', true)), true)";

    public static long NextId() => Interlocked.Increment(ref _nextId);

    public static async Task InsertAsync(NpgsqlConnection conn, long id, int? salary = 50_000, bool signed = true)
    {
        await using var cmd = new NpgsqlCommand("INSERT INTO public.candidates (id, expected_salary, offer_signed) VALUES (@id, @s, @o)", conn);
        cmd.Parameters.AddWithValue("id", id);
        cmd.Parameters.AddWithValue("s", salary is null ? DBNull.Value : salary.Value);
        cmd.Parameters.AddWithValue("o", signed);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>Sets the actor and reason and runs <paramref name="sql"/> in one transaction; returns the affected rows.</summary>
    public static async Task<int> InTransactionAsync(NpgsqlConnection conn, string sql, long id, string? actorId = "recruiter-7", string? actorKind = "USER", string? reason = "pipeline step")
    {
        await using var tx = await conn.BeginTransactionAsync();
        foreach (var (setting, value) in new[] { ("app.actor_id", actorId), ("app.actor_kind", actorKind), ("app.reason", reason) })
        {
            if (value is not null)
            {
                await using var set = new NpgsqlCommand("SELECT set_config(@n, @v, true)", conn, tx);
                set.Parameters.AddWithValue("n", setting);
                set.Parameters.AddWithValue("v", value);
                await set.ExecuteNonQueryAsync();
            }
        }

        await using (var bind = new NpgsqlCommand(BindContextSql, conn, tx))
        {
            await bind.ExecuteNonQueryAsync();
        }

        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        cmd.Parameters.AddWithValue("id", id);
        var rows = await cmd.ExecuteNonQueryAsync();
        await tx.CommitAsync();
        return rows;
    }

    public static async Task MoveAsync(NpgsqlConnection conn, long id, params string[] states)
    {
        foreach (var s in states)
        {
            Assert.Equal(1, await InTransactionAsync(conn, $"UPDATE public.candidates SET status = '{s}' WHERE id = @id", id));
        }
    }

    public static async Task<T?> ScalarAsync<T>(NpgsqlConnection conn, string sql, long id)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.AddWithValue("id", id);
        var v = await cmd.ExecuteScalarAsync();
        return v is null or DBNull ? default : (T)v;
    }
}
