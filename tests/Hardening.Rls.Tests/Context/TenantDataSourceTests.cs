using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Hardening.Rls.Tests.Context;

public sealed class TenantDataSourceTests(TenantDataSourceTests.ContextDatabase fixture) : IClassFixture<TenantDataSourceTests.ContextDatabase>
{
    private static readonly Guid TenantA = Guid.NewGuid();
    private static readonly Guid TenantB = Guid.NewGuid();
    private readonly string _db = fixture.Database;
    private readonly PostgresServer _server = fixture.Server;

    public sealed class ContextDatabase : IAsyncLifetime
    {
        public PostgresServer Server { get; private set; } = null!;

        public string Database { get; private set; } = "";

        public async Task InitializeAsync()
        {
            Server = await PostgresServer.Shared;
            Database = await AtsDatabase.CreateAsync(Server, "rls_ctx", PostgresServer.AppRole);
            await Server.ExecuteAsync($"""
                INSERT INTO jobs (tenant_id, id, title) VALUES ('{TenantA}', gen_random_uuid(), 'a1'), ('{TenantA}', gen_random_uuid(), 'a2'),
                                                               ('{TenantB}', gen_random_uuid(), 'b1');
                """, Database);
        }

        public Task DisposeAsync() => Task.CompletedTask;
    }

    [Fact]
    public async Task A_single_statement_request_is_exactly_one_network_round_trip()
    {
        await using var proxy = RoundTripProxy.Start(_server.Host, _server.Port);
        await using var ds = AtsDatabase.AppDataSource(_server, _db, b => { b.Port = proxy.Port; b.MaxPoolSize = 1; });
        var tenantDb = new TenantDataSource(ds);

        async Task<long> CountAsync()
        {
            await using var session = await tenantDb.OpenSessionAsync(new TenantContext(TenantA.ToString()));
            await using var cmd = session.CreateCommand("SELECT count(*) FROM jobs");
            return (long)(await session.ExecuteScalarAsync(cmd))!;
        }

        Assert.Equal(2, await CountAsync()); // warm-up: physical open, type loading, pool
        for (var i = 0; i < 5; i++)
        {
            proxy.Reset();
            Assert.Equal(2, await CountAsync());
            Assert.Equal(1, proxy.RoundTrips);
        }
    }

    [Fact]
    public async Task The_proxy_counts_the_naive_form_as_four_round_trips()
    {
        // Shows the counter can tell the difference: BEGIN, set_config, query, COMMIT as separate statements.
        await using var proxy = RoundTripProxy.Start(_server.Host, _server.Port);
        await using var ds = AtsDatabase.AppDataSource(_server, _db, b => { b.Port = proxy.Port; b.MaxPoolSize = 1; });
        async Task NaiveAsync()
        {
            await using var conn = await ds.OpenConnectionAsync();
            await using (var begin = new NpgsqlCommand("BEGIN", conn)) { await begin.ExecuteNonQueryAsync(); }
            await using (var set = new NpgsqlCommand("SELECT set_config('app.tenant_id', $1, true)", conn) { Parameters = { new() { Value = TenantA.ToString() } } }) { await set.ExecuteNonQueryAsync(); }
            await using (var q = new NpgsqlCommand("SELECT count(*) FROM jobs", conn)) { Assert.Equal(2L, await q.ExecuteScalarAsync()); }
            await using (var commit = new NpgsqlCommand("COMMIT", conn)) { await commit.ExecuteNonQueryAsync(); }
        }

        await NaiveAsync();
        proxy.Reset();
        await NaiveAsync();
        Assert.Equal(4, proxy.RoundTrips);
    }

    [Fact]
    public async Task In_a_transaction_the_context_travels_with_the_first_command_and_ends_with_the_commit()
    {
        await using var proxy = RoundTripProxy.Start(_server.Host, _server.Port);
        await using var ds = AtsDatabase.AppDataSource(_server, _db, b => { b.Port = proxy.Port; b.MaxPoolSize = 1; });
        var tenantDb = new TenantDataSource(ds);
        await using (var warm = await tenantDb.OpenSessionAsync(new TenantContext(TenantA.ToString())))
        {
            await using var c = warm.CreateCommand("SELECT 1");
            await warm.ExecuteScalarAsync(c);
        }

        proxy.Reset();
        await using var session = await tenantDb.OpenSessionAsync(new TenantContext(TenantA.ToString()));
        await session.BeginTransactionAsync();
        await using (var first = session.CreateCommand("SELECT count(*) FROM jobs"))
        {
            Assert.Equal(2L, await session.ExecuteScalarAsync(first));
        }

        Assert.Equal(1, proxy.RoundTrips); // BEGIN + context + first command
        await using (var second = session.CreateCommand("SELECT current_setting('app.tenant_id')"))
        {
            Assert.Equal(TenantA.ToString(), await session.ExecuteScalarAsync(second));
        }

        Assert.Equal(2, proxy.RoundTrips); // the context is not re-sent inside the transaction
        await session.CommitAsync();
        await using var after = new NpgsqlCommand("SELECT coalesce(current_setting('app.tenant_id', true), ''), (SELECT count(*) FROM jobs)", session.Connection);
        await using var reader = await after.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("", reader.GetString(0));
        Assert.Equal(0L, reader.GetInt64(1));
        await reader.DisposeAsync();

        // After the transaction the session is back to sending the context with every command.
        await using var again = session.CreateCommand("SELECT count(*) FROM jobs");
        Assert.Equal(2L, await session.ExecuteScalarAsync(again));
    }

    [Fact]
    public async Task A_failed_command_leaves_the_session_usable()
    {
        await using var ds = AtsDatabase.AppDataSource(_server, _db);
        var tenantDb = new TenantDataSource(ds);
        await using var session = await tenantDb.OpenSessionAsync(new TenantContext(TenantA.ToString()));
        await using var bad = session.CreateCommand("SELECT 1 / 0");
        Assert.Equal(PostgresErrorCodes.DivisionByZero, (await Assert.ThrowsAsync<PostgresException>(() => session.ExecuteScalarAsync(bad))).SqlState);
        await using var good = session.CreateCommand("SELECT count(*) FROM jobs");
        Assert.Equal(2L, await session.ExecuteScalarAsync(good));
    }

    [Fact]
    public async Task Outside_a_transaction_every_command_carries_the_context_and_nothing_outlives_it()
    {
        await using var ds = AtsDatabase.AppDataSource(_server, _db, b => b.MaxPoolSize = 1);
        var tenantDb = new TenantDataSource(ds);
        await using var session = await tenantDb.OpenSessionAsync(new TenantContext(TenantB.ToString(), "user-7", ["recruiter", "admin"]));
        await using var cmd = session.CreateCommand("SELECT current_setting('app.tenant_id') || '|' || current_setting('app.user_id') || '|' || current_setting('app.roles') || '|' || (SELECT count(*) FROM jobs)");
        Assert.Equal($"{TenantB}|user-7|recruiter,admin|1", await session.ExecuteScalarAsync(cmd));
        Assert.Equal($"{TenantB}|user-7|recruiter,admin|1", await session.ExecuteScalarAsync(cmd));
        await using var raw = new NpgsqlCommand("SELECT count(*) FROM jobs", session.Connection);
        Assert.Equal(0L, await raw.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Writes_report_the_rows_they_affected_and_named_parameters_work()
    {
        await using var ds = AtsDatabase.AppDataSource(_server, _db);
        var tenantDb = new TenantDataSource(ds);
        var tenant = Guid.NewGuid();
        await using var session = await tenantDb.OpenSessionAsync(new TenantContext(tenant.ToString()));
        await using var insert = session.CreateCommand("INSERT INTO jobs (tenant_id, id, title) VALUES (@t, gen_random_uuid(), @title), (@t, gen_random_uuid(), @title)");
        insert.Parameters.AddWithValue("t", tenant);
        insert.Parameters.AddWithValue("title", "x");
        Assert.Equal(2, await session.ExecuteNonQueryAsync(insert));
        await using var read = session.CreateCommand("SELECT title FROM jobs ORDER BY title");
        await using var reader = await session.ExecuteReaderAsync(read);
        var titles = new List<string>();
        while (await reader.ReadAsync())
        {
            titles.Add(reader.GetString(0));
        }

        Assert.Equal(["x", "x"], titles);
    }

    [Fact]
    public async Task Using_it_without_a_tenant_throws()
    {
        await using var ds = AtsDatabase.AppDataSource(_server, _db);
        var tenantDb = new TenantDataSource(ds);
        await Assert.ThrowsAsync<MissingTenantException>(async () => await tenantDb.OpenSessionAsync(new NoTenant()));
        Assert.Throws<MissingTenantException>(() => new TenantContext(""));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await tenantDb.OpenSessionAsync(null!));
    }

    [Fact]
    public void Multiplexing_is_refused_with_a_message_that_says_so()
    {
        using var ds = NpgsqlDataSource.Create(_server.ForDatabase(_db, PostgresServer.AppRole) + ";Multiplexing=true");
        var e = Assert.Throws<ArgumentException>(() => new TenantDataSource(ds));
        Assert.Contains("Multiplexing", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void No_reset_on_close_is_logged_as_a_warning()
    {
        using var ds = NpgsqlDataSource.Create(_server.ForDatabase(_db, PostgresServer.AppRole) + ";No Reset On Close=true");
        var logger = new FakeLogger<TenantDataSource>();
        _ = new TenantDataSource(ds, logger: logger);
        Assert.Contains(logger.Collector.GetSnapshot(), e => e.Level == LogLevel.Warning && e.Id.Id == 6102);

        var quiet = new FakeLogger<TenantDataSource>();
        using var normal = NpgsqlDataSource.Create(_server.ForDatabase(_db, PostgresServer.AppRole) + ";Max Auto Prepare=20");
        _ = new TenantDataSource(normal, logger: quiet);
        Assert.Empty(quiet.Collector.GetSnapshot());
    }

    [Fact]
    public void Auto_prepare_off_is_logged_once_as_information()
    {
        using var ds = NpgsqlDataSource.Create(_server.ForDatabase(_db, PostgresServer.AppRole));
        var logger = new FakeLogger<TenantDataSource>();
        _ = new TenantDataSource(ds, logger: logger);
        var entry = Assert.Single(logger.Collector.GetSnapshot());
        Assert.Equal(6106, entry.Id.Id);
        Assert.Equal(LogLevel.Information, entry.Level);
    }

    [Fact]
    public void The_context_is_one_parameterised_set_config_statement()
    {
        using var ds = NpgsqlDataSource.Create(_server.ForDatabase(_db, PostgresServer.AppRole));
        var tenantDb = new TenantDataSource(ds);
        Assert.Equal("SELECT set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true), set_config('app.roles', $3, true)", tenantDb.ContextStatement);
    }

    private sealed class NoTenant : ITenantContext
    {
        public string? TenantId => null;

        public string? UserId => "u";

        public IReadOnlyList<string> Roles => [];
    }
}
