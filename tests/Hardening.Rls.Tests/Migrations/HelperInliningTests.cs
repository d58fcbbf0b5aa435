
namespace Hardening.Rls.Tests.Migrations;

/// <summary>
/// The generated helper is inlined into the policies (no per-execution function call) and, without a pinned
/// search_path, still cannot be redirected by objects planted earlier on the caller's search_path.
/// </summary>
public sealed class HelperInliningTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static readonly Guid TenantA = Guid.Parse("aaaaaaaa-0000-4000-8000-000000000001");
    private static readonly Guid TenantB = Guid.Parse("bbbbbbbb-0000-4000-8000-000000000002");

    [Fact]
    public async Task The_policy_helper_is_inlined_into_a_prepared_statement_plan()
    {
        var db = await SeededAsync("rls_inline");
        await using var app = AtsDatabase.AppDataSource(postgres.Server, db);
        await using var conn = await app.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await using (var set = new NpgsqlCommand($"SELECT set_config('app.tenant_id', '{TenantA}', true)", conn, tx))
        {
            await set.ExecuteNonQueryAsync();
        }

        await using var explain = new NpgsqlCommand("EXPLAIN (VERBOSE, COSTS OFF) SELECT title FROM jobs WHERE id = $1", conn, tx)
        {
            Parameters = { new() { Value = Guid.NewGuid() } },
        };
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }
        }

        var text = string.Join('\n', plan);
        // Inlined: the plan evaluates current_setting itself; a call to the helper would show its name instead.
        Assert.Contains("current_setting('app.tenant_id'", text, StringComparison.Ordinal);
        Assert.DoesNotContain("current_tenant_id", text, StringComparison.Ordinal);
        Assert.Equal("", await postgres.Server.ScalarAsync<string>(
            "SELECT coalesce(array_to_string(proconfig, ','), '') FROM pg_proc WHERE proname = 'current_tenant_id'", db));
    }

    [Fact]
    public async Task Objects_planted_earlier_on_the_search_path_do_not_redirect_the_helper()
    {
        var db = await SeededAsync("rls_hijack");
        // What an attacker with CREATE on some schema could plant: a current_setting that always answers tenant B,
        // and a text = text operator (the one nullif uses) whose answer the test flips between false and true.
        await postgres.Server.ExecuteAsync($"""
            CREATE SCHEMA evil;
            CREATE FUNCTION evil.current_setting(text, boolean) RETURNS text LANGUAGE sql AS $$ SELECT '{TenantB}'::text $$;
            CREATE FUNCTION evil.rigged_equal(text, text) RETURNS boolean LANGUAGE sql AS $$ SELECT false $$;
            CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.rigged_equal);
            GRANT USAGE ON SCHEMA evil TO {PostgresServer.AppRole};
            GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA evil TO {PostgresServer.AppRole};
            """, db);
        await using var app = AtsDatabase.AppDataSource(postgres.Server, db, b => b.SearchPath = "evil, pg_catalog, public");
        var tenants = new TenantDataSource(app);

        foreach (var rigged in new[] { false, true })
        {
            await postgres.Server.ExecuteAsync(
                $"CREATE OR REPLACE FUNCTION evil.rigged_equal(text, text) RETURNS boolean LANGUAGE sql AS $$ SELECT {(rigged ? "true" : "false")} $$", db);

            // Sanity: the planted objects really are what unqualified names resolve to on this search path.
            await using (var conn = await app.OpenConnectionAsync())
            await using (var probe = new NpgsqlCommand("SELECT current_setting('app.anything', true) || '|' || ('x' = 'y')::text", conn))
            {
                Assert.Equal($"{TenantB}|{(rigged ? "true" : "false")}", await probe.ExecuteScalarAsync());
            }

            // A's context: only A's rows; with = rigged to true, nullif turns A into NULL: no rows (fails closed).
            await using (var session = await tenants.OpenSessionAsync(new TenantContext(TenantA.ToString())))
            await using (var cmd = session.CreateCommand("SELECT coalesce(string_agg(DISTINCT tenant_id::text, ','), '') FROM jobs"))
            {
                var seen = (string?)await session.ExecuteScalarAsync(cmd);
                Assert.Equal(rigged ? "" : TenantA.ToString(), seen);
            }

            // Empty context: no rows or a clear error (22P02, '' is not a uuid), never anybody's rows.
            await using (var session = await tenants.OpenSessionAsync(new TenantContext(TenantA.ToString())))
            {
                await session.BeginTransactionAsync();
                await session.ApplyContextAsync();
                await using (var clear = session.CreateCommand("SELECT pg_catalog.set_config('app.tenant_id', '', true)"))
                {
                    await session.ExecuteNonQueryAsync(clear);
                }

                await using var count = session.CreateCommand("SELECT count(*) FROM jobs");
                try
                {
                    Assert.Equal(0L, await session.ExecuteScalarAsync(count));
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidTextRepresentation)
                {
                    Assert.False(rigged, "with = always true nullif gives NULL: no rows, no error");
                }
            }
        }
    }

    private async Task<string> SeededAsync(string prefix)
    {
        var db = await AtsDatabase.CreateAsync(postgres.Server, prefix, PostgresServer.AppRole);
        await postgres.Server.ExecuteAsync($"""
            INSERT INTO jobs (tenant_id, id, title) SELECT '{TenantA}', gen_random_uuid(), 'a' || g FROM generate_series(1, 5) g;
            INSERT INTO jobs (tenant_id, id, title) SELECT '{TenantB}', gen_random_uuid(), 'b' || g FROM generate_series(1, 5) g;
            """, db);
        return db;
    }
}
