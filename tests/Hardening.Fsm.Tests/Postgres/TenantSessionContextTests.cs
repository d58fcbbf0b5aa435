using Hardening.Fsm.Tests.Pipeline;
using Hardening.Rls;
using Npgsql;

namespace Hardening.Fsm.Tests.Postgres;

/// <summary>
/// The FSM actor context and the RLS tenant context set together: <see cref="PostgresTableMapping.ContextSettings"/>
/// passed to a Hardening.Rls tenant session travel in the session's one context statement, in the same round trip as
/// the status update, and the trigger audits the change under that actor. Oracles: the audit row PostgreSQL wrote, and
/// the client's protocol messages as a proxy on the wire sees them.
/// </summary>
public sealed class TenantSessionContextTests(TenantSessionContextTests.RlsCandidateDatabase db) : IClassFixture<TenantSessionContextTests.RlsCandidateDatabase>
{
    private const string TenantA = "tenant-a";
    private const string TenantB = "tenant-b";

    /// <summary>The candidates table with the generated enforcement and a tenant policy on top.</summary>
    public sealed class RlsCandidateDatabase : CandidateDatabase
    {
        protected override string GrantsAfterScript => $"""
            ALTER TABLE public.candidates ADD COLUMN IF NOT EXISTS tenant_id text NOT NULL DEFAULT '{TenantA}';
            ALTER TABLE public.candidates ENABLE ROW LEVEL SECURITY;
            ALTER TABLE public.candidates FORCE ROW LEVEL SECURITY;
            CREATE POLICY tenant_isolation ON public.candidates USING (tenant_id = current_setting('app.tenant_id', true));
            """;
    }

    [Fact]
    public async Task The_actor_context_travels_in_the_tenant_context_statement_in_one_round_trip()
    {
        var id = await InsertAsync(TenantA);
        await using var proxy = RoundTripProxy.Start(db.Server.Host, db.Server.Port);
        await using var ds = AppDataSource(proxy.Port);
        var tenantDb = new TenantDataSource(ds);
        var mapping = CandidatePipeline.Table;

        // Baseline: a tenant-only transaction of one command (warms the pool too).
        long baseline = 0;
        for (var i = 0; i < 2; i++)
        {
            proxy.Reset();
            await using var plain = await tenantDb.OpenSessionAsync(new TenantContext(TenantA));
            await plain.BeginTransactionAsync();
            await using var select = plain.CreateCommand("SELECT count(*) FROM public.candidates WHERE id = $1");
            select.Parameters.Add(new NpgsqlParameter { Value = id });
            Assert.Equal(1L, await plain.ExecuteScalarAsync(select));
            await plain.CommitAsync();
            baseline = proxy.Executes;
        }

        proxy.Reset();
        await using (var session = await tenantDb.OpenSessionAsync(new TenantContext(TenantA, userId: "u-7"), mapping.ContextSettings(Actor.User("recruiter-7"), "screened by phone"), mapping.ContextBindingSetting))
        {
            await session.BeginTransactionAsync();
            await using var update = session.CreateCommand("UPDATE public.candidates SET status = 'SCREENING' WHERE id = $1");
            update.Parameters.Add(new NpgsqlParameter { Value = id });
            Assert.Equal(1, await session.ExecuteNonQueryAsync(update));
            Assert.Equal(1, proxy.RoundTrips); // BEGIN + both contexts + the update
            await session.CommitAsync();
        }

        // Same statements as the tenant-only transaction: the actor context added none.
        Assert.Equal(baseline, proxy.Executes);
        var setters = proxy.Statements.Where(s => s.Contains("set_config", StringComparison.Ordinal)).ToList();
        var setter = Assert.Single(setters);
        foreach (var setting in new[] { "app.tenant_id", "app.user_id", mapping.ActorIdSetting, mapping.ActorKindSetting, mapping.ReasonSetting, mapping.ContextBindingSetting })
        {
            Assert.Contains($"'{setting}'", setter, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("recruiter-7", setter, StringComparison.Ordinal); // values are bound, not spliced in
        Assert.Equal(("SCREENING", "recruiter-7", "USER", "screened by phone"), await LastAuditAsync(id));
    }

    [Fact]
    public async Task Outside_a_transaction_the_actor_context_ends_with_the_statement()
    {
        // Outside a transaction each command carries the context in its own implicit transaction; a status change
        // on a plain connection afterwards (no context) finds nothing left to reuse.
        var id = await InsertAsync(TenantA);
        await using var ds = AppDataSource(db.Server.Port);
        var tenantDb = new TenantDataSource(ds);
        var mapping = CandidatePipeline.Table;
        await using var session = await tenantDb.OpenSessionAsync(new TenantContext(TenantA), mapping.ContextSettings(Actor.System("nightly"), "auto-screen"), mapping.ContextBindingSetting);
        await using (var update = session.CreateCommand("UPDATE public.candidates SET status = 'SCREENING' WHERE id = $1"))
        {
            update.Parameters.Add(new NpgsqlParameter { Value = id });
            Assert.Equal(1, await session.ExecuteNonQueryAsync(update));
        }

        Assert.Equal(("SCREENING", "nightly", "SYSTEM", "auto-screen"), await LastAuditAsync(id));

        // The same connection, no context: the tenant policy hides the row and the trigger would refuse anyway.
        await using var bare = new NpgsqlCommand("UPDATE public.candidates SET status = 'INTERVIEW' WHERE id = $1", session.Connection) { Parameters = { new() { Value = id } } };
        Assert.Equal(0, await bare.ExecuteNonQueryAsync());
        await using var leftover = new NpgsqlCommand("SELECT current_setting('app.actor_id', true), current_setting('app.context_binding', true)", session.Connection);
        await using var reader = await leftover.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.True(reader.IsDBNull(0) || reader.GetString(0).Length == 0);
        Assert.True(reader.IsDBNull(1) || reader.GetString(1).Length == 0);
    }

    [Fact]
    public async Task Another_tenants_row_is_not_changed_even_with_a_valid_actor_context()
    {
        var id = await InsertAsync(TenantB);
        await using var ds = AppDataSource(db.Server.Port);
        var tenantDb = new TenantDataSource(ds);
        await using var session = await tenantDb.OpenSessionAsync(new TenantContext(TenantA), CandidatePipeline.Table.ContextSettings(Actor.User("mallory"), "cross-tenant"), CandidatePipeline.Table.ContextBindingSetting);
        await using var update = session.CreateCommand("UPDATE public.candidates SET status = 'SCREENING' WHERE id = $1");
        update.Parameters.Add(new NpgsqlParameter { Value = id });
        Assert.Equal(0, await session.ExecuteNonQueryAsync(update));
        Assert.Null(await LastAuditAsync(id));
    }

    [Theory]
    [InlineData("app.tenant_id", null, "set twice")]
    [InlineData("APP.TENANT_ID", null, "set twice")]
    [InlineData("app.actor id", null, "not a valid PostgreSQL custom setting")]
    [InlineData("app.actor_id", "app.actor_id", "also one of the settings it binds")]
    [InlineData("app.actor_id", "binding", "not a valid PostgreSQL custom setting")]
    public async Task Bad_extra_settings_are_refused_before_any_round_trip(string name, string? binding, string expected)
    {
        await using var ds = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=x;Timeout=1");
        var tenantDb = new TenantDataSource(ds);
        var e = await Assert.ThrowsAnyAsync<ArgumentException>(async () => await tenantDb.OpenSessionAsync(new TenantContext(TenantA), [new(name, "v")], binding));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Contains(e.ParamName, new[] { "settings", "bindingSetting" });
    }

    [Fact]
    public void Context_settings_refuse_a_blank_actor_or_reason_and_nul()
    {
        var mapping = CandidatePipeline.Table;
        Assert.Equal("actor", Assert.Throws<ArgumentException>(() => mapping.ContextSettings(Actor.User(" "), "r")).ParamName);
        Assert.Equal("reason", Assert.Throws<ArgumentException>(() => mapping.ContextSettings(Actor.User("a"), "\t")).ParamName);
        Assert.Contains("NUL", Assert.Throws<ArgumentException>(() => mapping.ContextSettings(Actor.User("a"), "r\0")).Message, StringComparison.Ordinal);
        Assert.Equal(
            [new("app.actor_id", "a"), new("app.actor_kind", "SYSTEM"), new("app.reason", "r")],
            mapping.ContextSettings(Actor.System("a"), "r"));
    }

    [Fact]
    public void The_context_statement_refuses_setting_names_that_would_not_round_trip()
    {
        var spaced = new PostgresTableMapping("public", "candidates") { ActorIdSetting = "app.actor id" };
        var e = Assert.Throws<ArgumentException>(() => spaced.SetContextSql);
        Assert.Equal(nameof(PostgresTableMapping.ActorIdSetting), e.ParamName);
        Assert.Contains("'app.actor id' (actor id (PostgresTableMapping.ActorIdSetting)) is not a valid PostgreSQL custom setting", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => spaced.ContextSettings(Actor.User("a"), "r"));
        Assert.Throws<ArgumentException>(() => CandidatePipeline.Build().ToPostgresSql(spaced));

        // PostgreSQL folds setting names, so these two would be one setting.
        var folded = new PostgresTableMapping("public", "candidates") { ReasonSetting = "APP.Actor_Id" };
        Assert.Contains("four different names", Assert.Throws<ArgumentException>(() => folded.SetContextSql).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_context_statement_uses_positional_parameters()
    {
        var sql = CandidatePipeline.Table.SetContextSql;
        Assert.Equal(
            "SELECT set_config('app.actor_id', $1, true), set_config('app.actor_kind', $2, true), set_config('app.reason', $3, true), " +
            "set_config('app.context_binding', format('%s %L %L %L', pg_catalog.pg_current_xact_id(), $1::text, $2::text, $3::text), true)",
            sql);
        Assert.DoesNotContain("@", CandidatePipeline.Table.VisitedStatesSql, StringComparison.Ordinal);
    }

    private NpgsqlDataSource AppDataSource(int port)
    {
        var b = new NpgsqlConnectionStringBuilder(db.AppConnectionString) { Port = port, MaxPoolSize = 1 };
        return NpgsqlDataSource.Create(b.ConnectionString);
    }

    private async Task<long> InsertAsync(string tenant)
    {
        var id = CandidateSql.NextId();
        await db.Server.ExecuteAsync($"INSERT INTO public.candidates (id, tenant_id) VALUES ({id}, '{tenant}')", db.Database);
        return id;
    }

    private async Task<(string, string, string, string)?> LastAuditAsync(long id)
    {
        await using var conn = await db.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT to_state, actor_id, actor_kind, reason FROM public.candidates_audit WHERE entity_id = $1 ORDER BY id DESC LIMIT 1", conn) { Parameters = { new() { Value = id.ToString(System.Globalization.CultureInfo.InvariantCulture) } } };
        await using var reader = await cmd.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)) : null;
    }
}
