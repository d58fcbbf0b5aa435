using System.Data;

namespace Hardening.Rls.Tests.Context;

/// <summary>
/// The session's transaction life cycle, argument checks and command options, observed on the real server: rows a
/// superuser counts afterwards, the settings the server session holds, the statements the server was sent (through
/// <see cref="RoundTripProxy"/>) and the backend state in <c>pg_stat_activity</c>.
/// </summary>
public sealed class TenantSessionLifecycleTests(AppRoleDatabaseFixture fixture) : IClassFixture<AppRoleDatabaseFixture>
{
    private readonly PostgresServer _server = fixture.Server;
    private readonly string _db = fixture.Database;

    public enum Method
    {
        Reader,
        NonQuery,
        Scalar,
    }

    [Fact]
    public async Task Commit_keeps_the_rows_and_rollback_discards_them_and_the_context_ends_with_either()
    {
        var tenant = Guid.NewGuid();
        await using var opened = await OpenAsync(tenant.ToString());
        var session = opened.Session;

        await session.BeginTransactionAsync();
        await InsertJobAsync(session, tenant, "kept");
        await session.CommitAsync();
        Assert.Null(session.Transaction);
        Assert.Equal(1L, await CountAsSuperuserAsync(tenant));

        await session.BeginTransactionAsync();
        await InsertJobAsync(session, tenant, "discarded");
        Assert.Equal(2L, await ScalarAsync(session, "SELECT count(*) FROM jobs")); // the transaction sees its own row
        await session.RollbackAsync();
        Assert.Null(session.Transaction);
        Assert.Equal(1L, await CountAsSuperuserAsync(tenant));
        Assert.Equal("", await RawSettingAsync(session.Connection, null)); // the context ended with the rollback

        // Outside a transaction again: every command carries the context.
        Assert.Equal(1L, await ScalarAsync(session, "SELECT count(*) FROM jobs"));
    }

    [Fact]
    public async Task Ending_or_beginning_a_transaction_at_the_wrong_time_names_the_mistake()
    {
        await using var opened = await OpenAsync(Guid.NewGuid().ToString());
        var session = opened.Session;
        Assert.Equal("There is no open transaction to commit; call BeginTransactionAsync first.",
            (await Assert.ThrowsAsync<InvalidOperationException>(() => session.CommitAsync())).Message);
        Assert.Equal("There is no open transaction to roll back; call BeginTransactionAsync first.",
            (await Assert.ThrowsAsync<InvalidOperationException>(() => session.RollbackAsync())).Message);
        Assert.Equal("ApplyContextAsync needs an open transaction (call BeginTransactionAsync first); outside one the context would end with the statement.",
            (await Assert.ThrowsAsync<InvalidOperationException>(() => session.ApplyContextAsync())).Message);
        await session.BeginTransactionAsync();
        var tx = session.Transaction;
        Assert.NotNull(tx);
        Assert.Equal("This tenant session already has an open transaction; commit or roll it back first.",
            (await Assert.ThrowsAsync<InvalidOperationException>(async () => await session.BeginTransactionAsync())).Message);
        Assert.Same(tx, session.Transaction); // the refused call left the open transaction alone
    }

    [Fact]
    public async Task ApplyContext_lets_commands_run_directly_on_the_connection_see_the_tenant_and_is_sent_once()
    {
        var tenant = Guid.NewGuid();
        await SeedAsync(tenant, 3);
        await using var proxy = RoundTripProxy.Start(_server.Host, _server.Port);
        await using var ds = AtsDatabase.AppDataSource(_server, _db, b => { b.Port = proxy.Port; b.MaxPoolSize = 1; });
        var tenantDb = new TenantDataSource(ds);
        await using var session = await tenantDb.OpenSessionAsync(new TenantContext(tenant.ToString(), "u-1", ["r1", "r2"]));
        await session.BeginTransactionAsync();
        proxy.Reset();
        await session.ApplyContextAsync();
        Assert.Equal(1, proxy.RoundTrips); // Npgsql's deferred BEGIN and the context
        Assert.Equal(["BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED", tenantDb.ContextStatement], proxy.Statements);

        proxy.Reset();
        await session.ApplyContextAsync(); // already applied in this transaction: nothing is sent
        Assert.Equal(0, proxy.RoundTrips);
        Assert.Empty(proxy.Statements);

        await using (var raw = new NpgsqlCommand("SELECT count(*)::text || '|' || current_setting('app.tenant_id') || '|' || current_setting('app.user_id') || '|' || current_setting('app.roles') FROM jobs", session.Connection, session.Transaction))
        {
            Assert.Equal($"3|{tenant}|u-1|r1,r2", await raw.ExecuteScalarAsync());
        }

        // A session command after ApplyContextAsync does not send the context again.
        proxy.Reset();
        Assert.Equal(3L, await ScalarAsync(session, "SELECT count(*) FROM jobs"));
        Assert.DoesNotContain(proxy.Statements, s => s.Contains("set_config", StringComparison.Ordinal));
        await session.CommitAsync();
        Assert.Equal("", await RawSettingAsync(session.Connection, null));
    }

    [Theory]
    [InlineData(Method.Reader)]
    [InlineData(Method.NonQuery)]
    [InlineData(Method.Scalar)]
    public async Task In_a_transaction_the_context_goes_with_the_first_command_only_whichever_method_runs_it(Method first)
    {
        var tenant = Guid.NewGuid();
        await SeedAsync(tenant, 2);
        await using var proxy = RoundTripProxy.Start(_server.Host, _server.Port);
        await using var ds = AtsDatabase.AppDataSource(_server, _db, b => { b.Port = proxy.Port; b.MaxPoolSize = 1; });
        var tenantDb = new TenantDataSource(ds);
        await using var session = await tenantDb.OpenSessionAsync(new TenantContext(tenant.ToString()));
        await session.BeginTransactionAsync();
        proxy.Reset();
        await RunAsync(session, first, 2);

        // Each later command, by every method, runs without a second context statement and still sees the tenant.
        foreach (var next in Enum.GetValues<Method>())
        {
            await RunAsync(session, next, 2);
        }

        Assert.Equal([tenantDb.ContextStatement], proxy.Statements.Where(s => s.Contains("set_config", StringComparison.Ordinal)));
        Assert.Equal(4, proxy.Statements.Count(s => s is "SELECT count(*) FROM jobs" or "UPDATE jobs SET title = title"));
        await session.CommitAsync();

        // After the commit the next command sends the context again.
        proxy.Reset();
        Assert.Equal(2L, await ScalarAsync(session, "SELECT count(*) FROM jobs"));
        Assert.Single(proxy.Statements, s => s == tenantDb.ContextStatement);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Own_commands_run_through_the_session_get_its_connection_and_transaction(bool inTransaction)
    {
        var tenant = Guid.NewGuid();
        await SeedAsync(tenant, 2);
        await using var opened = await OpenAsync(tenant.ToString());
        var session = opened.Session;
        if (inTransaction)
        {
            await session.BeginTransactionAsync();
        }

        // Twice: in a transaction the second run takes the path without the context statement.
        for (var i = 0; i < 2; i++)
        {
            await using var reader = await session.ExecuteReaderAsync(new NpgsqlCommand("SELECT count(*) FROM jobs"));
            Assert.True(await reader.ReadAsync());
            Assert.Equal(2L, reader.GetInt64(0));
            await reader.DisposeAsync();

            await using var insert = new NpgsqlCommand("INSERT INTO notes (tenant_id, body) VALUES ($1, 'n')") { Parameters = { new() { Value = tenant } } };
            Assert.Equal(1, await session.ExecuteNonQueryAsync(insert));
            Assert.Same(session.Connection, insert.Connection);
            Assert.Same(session.Transaction, insert.Transaction);

            await using var scalar = new NpgsqlCommand("SELECT current_setting('app.tenant_id')", session.Connection);
            Assert.Equal(tenant.ToString(), await session.ExecuteScalarAsync(scalar));
        }

        if (inTransaction)
        {
            await session.RollbackAsync();
        }

        Assert.Equal(inTransaction ? 0L : 2L, await _server.ScalarAsync<long>($"SELECT count(*) FROM notes WHERE tenant_id = '{tenant}'", _db));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Scalar_is_null_for_no_row_and_for_a_row_without_columns(bool inTransaction)
    {
        var tenant = Guid.NewGuid();
        await SeedAsync(tenant, 2);
        await using var opened = await OpenAsync(tenant.ToString());
        var session = opened.Session;
        if (inTransaction)
        {
            await session.BeginTransactionAsync();
            await session.ApplyContextAsync(); // so both commands below take the path without the context statement
        }

        Assert.Null(await ScalarAsync(session, "SELECT 1 WHERE false"));
        Assert.Null(await ScalarAsync(session, "SELECT FROM jobs")); // two rows of zero columns
        Assert.Equal(DBNull.Value, await ScalarAsync(session, "SELECT NULL"));
        await using var own = new NpgsqlCommand("SELECT FROM jobs");
        Assert.Null(await session.ExecuteScalarAsync(own));
    }

    [Theory]
    [InlineData(CommandBehavior.SingleRow)]
    [InlineData(CommandBehavior.SingleResult)]
    [InlineData(CommandBehavior.SingleResult | CommandBehavior.SingleRow)]
    public async Task SingleRow_and_SingleResult_do_not_cut_the_command_result_while_the_context_is_prepended(CommandBehavior behavior)
    {
        await using var opened = await OpenAsync(Guid.NewGuid().ToString());
        var session = opened.Session;
        await using var cmd = session.CreateCommand("SELECT g FROM generate_series(1, 3) g");
        await using var reader = await session.ExecuteReaderAsync(cmd, behavior);
        var seen = new List<int>();
        while (await reader.ReadAsync())
        {
            seen.Add(reader.GetInt32(0));
        }

        Assert.Equal([1, 2, 3], seen);
    }

    [Fact]
    public async Task A_reader_whose_command_fails_is_closed_so_the_session_stays_usable()
    {
        var tenant = Guid.NewGuid();
        await SeedAsync(tenant, 1);
        await using var opened = await OpenAsync(tenant.ToString());
        var session = opened.Session;
        await using var bad = session.CreateCommand("SELECT 1 / 0");
        Assert.Equal(PostgresErrorCodes.DivisionByZero, (await Assert.ThrowsAsync<PostgresException>(() => session.ExecuteReaderAsync(bad))).SqlState);
        Assert.Equal(1L, await ScalarAsync(session, "SELECT count(*) FROM jobs"));
    }

    [Fact]
    public async Task Commands_are_checked_before_anything_is_sent()
    {
        await using var opened = await OpenAsync(Guid.NewGuid().ToString());
        var (ds, _, session) = opened;
        Assert.Equal("commandText", Assert.Throws<ArgumentNullException>(() => session.CreateCommand(null!)).ParamName);
        Assert.Equal("command", (await Assert.ThrowsAsync<ArgumentNullException>(() => session.ExecuteScalarAsync((TenantCommand)null!))).ParamName);
        Assert.Equal("command", (await Assert.ThrowsAsync<ArgumentNullException>(() => session.ExecuteScalarAsync((NpgsqlCommand)null!))).ParamName);
        Assert.Equal("command", (await Assert.ThrowsAsync<ArgumentNullException>(() => session.ExecuteNonQueryAsync((NpgsqlCommand)null!))).ParamName);
        Assert.Equal("command", (await Assert.ThrowsAsync<ArgumentNullException>(() => session.ExecuteReaderAsync((NpgsqlCommand)null!))).ParamName);

        await using var other = await ds.OpenConnectionAsync();
        await using var foreign = new NpgsqlCommand("SELECT 1", other);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => session.ExecuteScalarAsync(foreign));
        Assert.Equal("The command belongs to another connection; create it with this session's CreateCommand. (Parameter 'command')", e.Message);
        Assert.Same(other, foreign.Connection); // not rebound

        await using var proc = new NpgsqlCommand("pg_backend_pid") { CommandType = CommandType.StoredProcedure };
        var p = await Assert.ThrowsAsync<ArgumentException>(() => session.ExecuteScalarAsync(proc));
        Assert.Equal("Only CommandType.Text is supported (got StoredProcedure). (Parameter 'command')", p.Message);
        await using var table = new NpgsqlCommand("jobs") { CommandType = CommandType.TableDirect };
        Assert.Equal("Only CommandType.Text is supported (got TableDirect). (Parameter 'command')", (await Assert.ThrowsAsync<ArgumentException>(() => session.ExecuteNonQueryAsync(table))).Message);
    }

    [Fact]
    public async Task A_command_timeout_of_its_own_applies_to_the_batch()
    {
        await using var opened = await OpenAsync(Guid.NewGuid().ToString());
        var session = opened.Session;
        await using var cmd = session.CreateCommand("SELECT pg_sleep(20)");
        cmd.CommandTimeout = 1;
        var e = await Assert.ThrowsAnyAsync<NpgsqlException>(() => session.ExecuteScalarAsync(cmd));
        Assert.IsType<TimeoutException>(e.InnerException);
    }

    [Fact]
    public async Task The_connection_strings_command_timeout_applies_when_the_command_sets_none()
    {
        await using var ds = AtsDatabase.AppDataSource(_server, _db, b => b.CommandTimeout = 1);
        var tenantDb = new TenantDataSource(ds);
        await using var session = await tenantDb.OpenSessionAsync(new TenantContext(Guid.NewGuid().ToString()));
        await using var cmd = session.CreateCommand("SELECT pg_sleep(20)");
        var e = await Assert.ThrowsAnyAsync<NpgsqlException>(() => session.ExecuteScalarAsync(cmd));
        Assert.IsType<TimeoutException>(e.InnerException);
    }

    [Fact]
    public async Task A_command_timeout_of_30_set_explicitly_is_kept_over_a_shorter_connection_default()
    {
        // 30 is Npgsql's default; a command that asks for it explicitly must not get the connection string's 1.
        await using var ds = AtsDatabase.AppDataSource(_server, _db, b => b.CommandTimeout = 1);
        var tenantDb = new TenantDataSource(ds);
        await using var session = await tenantDb.OpenSessionAsync(new TenantContext(Guid.NewGuid().ToString()));
        await using var cmd = session.CreateCommand("SELECT pg_sleep(2.5)::text");
        cmd.CommandTimeout = 30;
        Assert.Equal("", await session.ExecuteScalarAsync(cmd));
    }

    [Fact]
    public async Task Disposing_a_session_with_an_open_transaction_rolls_it_back_and_frees_the_backend()
    {
        var tenant = Guid.NewGuid();
        await using var ds = AtsDatabase.AppDataSource(_server, _db, b => { b.MaxPoolSize = 1; b.ApplicationName = "lifecycle-" + tenant.ToString("N")[..8]; });
        var tenantDb = new TenantDataSource(ds);
        NpgsqlTransaction tx;
        int pid;
        await using (var session = await tenantDb.OpenSessionAsync(new TenantContext(tenant.ToString())))
        {
            await session.BeginTransactionAsync();
            await InsertJobAsync(session, tenant, "open");
            pid = session.Connection.ProcessID;
            tx = session.Transaction!;
        }

        Assert.Throws<ObjectDisposedException>(() => tx.Connection);
        Assert.Equal(0L, await CountAsSuperuserAsync(tenant));
        var state = await _server.ScalarAsync<string>($"SELECT coalesce(state, 'gone') FROM pg_stat_activity WHERE pid = {pid} UNION ALL SELECT 'gone' LIMIT 1", _db);
        Assert.NotEqual("idle in transaction", state);

        // The pooled connection (pool of one) serves the next session without the old transaction or context.
        await using var next = await tenantDb.OpenSessionAsync(new TenantContext(Guid.NewGuid().ToString()));
        Assert.Equal("", await RawSettingAsync(next.Connection, null));
        Assert.Equal(0L, await ScalarAsync(next, "SELECT count(*) FROM jobs"));
    }

    /// <summary>Counts (or, for NonQuery, updates) the tenant's jobs: the result is the tenant's row count only with the context.</summary>
    private static async Task RunAsync(TenantSession session, Method method, long expected)
    {
        await using var cmd = session.CreateCommand(method == Method.NonQuery ? "UPDATE jobs SET title = title" : "SELECT count(*) FROM jobs");
        switch (method)
        {
            case Method.Reader:
                await using (var reader = await session.ExecuteReaderAsync(cmd))
                {
                    Assert.True(await reader.ReadAsync());
                    Assert.Equal(expected, reader.GetInt64(0));
                }

                break;
            case Method.NonQuery:
                Assert.Equal(expected, await session.ExecuteNonQueryAsync(cmd));
                break;
            default:
                Assert.Equal(expected, await session.ExecuteScalarAsync(cmd));
                break;
        }
    }

    private static async Task<object?> ScalarAsync(TenantSession session, string sql)
    {
        await using var cmd = session.CreateCommand(sql);
        return await session.ExecuteScalarAsync(cmd);
    }

    private static async Task InsertJobAsync(TenantSession session, Guid tenant, string title)
    {
        await using var cmd = session.CreateCommand("INSERT INTO jobs (tenant_id, id, title) VALUES ($1, gen_random_uuid(), $2)");
        cmd.Parameters.Add(new NpgsqlParameter { Value = tenant });
        cmd.Parameters.Add(new NpgsqlParameter { Value = title });
        Assert.Equal(1, await session.ExecuteNonQueryAsync(cmd));
    }

    private static async Task<string> RawSettingAsync(NpgsqlConnection connection, NpgsqlTransaction? tx)
    {
        await using var cmd = new NpgsqlCommand("SELECT coalesce(current_setting('app.tenant_id', true), '')", connection, tx);
        return (string)(await cmd.ExecuteScalarAsync())!;
    }

    private Task<long> CountAsSuperuserAsync(Guid tenant) => _server.ScalarAsync<long>($"SELECT count(*) FROM jobs WHERE tenant_id = '{tenant}'", _db);

    /// <summary>The app role's data source on this class's database and a session for <paramref name="tenant"/> on it.</summary>
    private async Task<Opened> OpenAsync(string tenant)
    {
        var ds = AtsDatabase.AppDataSource(_server, _db);
        var tenantDb = new TenantDataSource(ds);
        return new Opened(ds, tenantDb, await tenantDb.OpenSessionAsync(new TenantContext(tenant)));
    }

    private sealed record Opened(NpgsqlDataSource DataSource, TenantDataSource TenantDb, TenantSession Session) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Session.DisposeAsync();
            await DataSource.DisposeAsync();
        }
    }

    private Task SeedAsync(Guid tenant, int rows) =>
        _server.ExecuteAsync($"INSERT INTO jobs (tenant_id, id, title) SELECT '{tenant}', gen_random_uuid(), 't' || g FROM generate_series(1, {rows}) g", _db);
}
