using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NpgsqlTypes;

namespace Hardening.Rls.Tests.Bypass;

/// <summary>Attacks on the generated policies, as the application role (LOGIN, NOSUPERUSER, NOBYPASSRLS) under tenant A.</summary>
public sealed class BypassSuiteTests(AppRoleDatabaseFixture fixture) : IClassFixture<AppRoleDatabaseFixture>, IAsyncLifetime
{
    private static readonly string[] Injections =
    [
        "' OR 1=1 --", "'; SET row_security = off; --", "x', true); SELECT set_config('app.tenant_id', 'y", "$1", "\\'; DROP TABLE jobs; --",
        "00000000-0000-0000-0000-000000000000' OR 'a'='a", "); RESET ALL; --", "\u2028\u0001\t\r\n", "%s%n%x", "Robert'); DROP TABLE jobs;--",
    ];

    private static readonly Gen<Guid> Tenant = Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), 16).Select(b => new Guid(b));
    private static readonly Gen<string> Title = Gen.Choose(0, 12).SelectMany(n => Gen.ArrayOf(Gen.Choose(0x20, 0x7E).Select(c => (char)c), n)).Select(c => new string(c));

    private NpgsqlDataSource _super = null!;
    private NpgsqlDataSource _app = null!;
    private TenantDataSource _tenantDb = null!;

    public Task InitializeAsync()
    {
        _super = NpgsqlDataSource.Create(fixture.Server.ForDatabase(fixture.Database));
        _app = AtsDatabase.AppDataSource(fixture.Server, fixture.Database);
        _tenantDb = new TenantDataSource(_app);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _super.DisposeAsync();
        await _app.DisposeAsync();
    }

    [Property(MaxTest = 100)]
    public Property Select_update_delete_never_see_or_touch_another_tenant_and_writes_into_it_are_rejected()
    {
        var gen =
            from a in Tenant
            from b in Tenant
            from titlesA in Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(Title, n))
            from titlesB in Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(Title, n))
            select (a, b, titlesA, titlesB);
        return Prop.ForAll(gen.Where(g => g.a != g.b).ToArbitrary(), c => RunCaseAsync(c.a, c.b, c.titlesA, c.titlesB).GetAwaiter().GetResult());
    }

    [Property(MaxTest = 150)]
    public Property Any_string_as_tenant_stays_data_and_never_yields_rows()
    {
        var strings = Gen.OneOf(
            Gen.Elements(Injections),
            ArbMap.Default.ArbFor<string>().Generator.Where(s => !string.IsNullOrEmpty(s) && s.Length <= 256 && !s.Contains('\0', StringComparison.Ordinal) && IsWellFormed(s)));
        SeedAsync(Guid.NewGuid(), ["seed"]).GetAwaiter().GetResult();
        return Prop.ForAll(strings.ToArbitrary(), value =>
        {
            AsTenantAsync(value, async s =>
            {
                await using var echo = s.CreateCommand("SELECT current_setting('app.tenant_id')");
                Assert.Equal(value, await s.ExecuteScalarAsync(echo));
                await using var count = s.CreateCommand("SELECT count(*) FROM jobs");
                var e = await Record.ExceptionAsync(async () => Assert.Equal(0L, await s.ExecuteScalarAsync(count)));
                if (e is not null)
                {
                    Assert.Equal(PostgresErrorCodes.InvalidTextRepresentation, Assert.IsType<PostgresException>(e).SqlState);
                }
            }).GetAwaiter().GetResult();
        });
    }

    [Fact]
    public async Task No_context_empty_context_and_garbage_context_give_no_rows_or_a_clear_error()
    {
        await SeedAsync(Guid.NewGuid(), ["x", "y"]);
        await using var conn = await _app.OpenConnectionAsync();
        foreach (var table in new[] { "jobs", "open_jobs", "events", "events_a", "applications", "notes" })
        {
            await using var none = new NpgsqlCommand($"SELECT count(*) FROM {table}", conn);
            Assert.Equal(0L, await none.ExecuteScalarAsync());
        }

        await using (var empty = new NpgsqlBatch(conn) { BatchCommands = { new("SELECT set_config('app.tenant_id', '', true)"), new("SELECT count(*) FROM jobs") } })
        {
            await using var reader = await empty.ExecuteReaderAsync();
            await reader.NextResultAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(0L, reader.GetInt64(0));
        }

        await using var garbage = new NpgsqlBatch(conn) { BatchCommands = { new("SELECT set_config('app.tenant_id', 'garbage', true)"), new("SELECT count(*) FROM jobs") } };
        var e = await Assert.ThrowsAsync<PostgresException>(() => garbage.ExecuteNonQueryAsync());
        Assert.Equal(PostgresErrorCodes.InvalidTextRepresentation, e.SqlState);
    }

    [Theory]
    [InlineData("TRUNCATE jobs")]
    [InlineData("TRUNCATE events_a")]
    [InlineData("ALTER TABLE jobs DISABLE ROW LEVEL SECURITY")]
    [InlineData("ALTER TABLE jobs NO FORCE ROW LEVEL SECURITY")]
    [InlineData("DROP POLICY tenant_isolation ON jobs")]
    [InlineData("ALTER POLICY tenant_isolation ON jobs USING (true)")]
    [InlineData("SET LOCAL row_security = off; SELECT count(*) FROM jobs")]
    [InlineData("ALTER VIEW open_jobs SET (security_invoker = false)")]
    public async Task Escapes_are_refused(string sql)
    {
        var tenant = Guid.NewGuid();
        await SeedAsync(tenant, ["keep"]);
        await using var session = await _tenantDb.OpenSessionAsync(new TenantContext(tenant.ToString()));
        await session.BeginTransactionAsync();
        await session.ApplyContextAsync();
        await using var cmd = new NpgsqlCommand(sql, session.Connection, session.Transaction);
        var e = await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync());
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, e.SqlState);
        await session.RollbackAsync();
        Assert.Equal(1L, await SuperScalarAsync<long>($"SELECT count(*) FROM jobs WHERE tenant_id = '{tenant}'"));
    }

    [Fact]
    public async Task Unique_and_foreign_key_errors_do_not_reveal_another_tenants_rows()
    {
        var a = Guid.NewGuid();
        var b = Guid.NewGuid();
        var bJob = await SeedAsync(b, ["b-job"]);
        await SuperExecuteAsync($"INSERT INTO applications (tenant_id, id, job_id, email) VALUES ('{b}', gen_random_uuid(), '{bJob[0]}', 'taken@example.com')");

        // Same primary key value and same e-mail as tenant B: no conflict, so no oracle.
        await AsTenantAsync(a.ToString(), async s =>
        {
            await using var job = s.CreateCommand("INSERT INTO jobs (tenant_id, id, title) VALUES ($1, $2, 'mine')");
            job.Parameters.Add(new() { Value = a });
            job.Parameters.Add(new() { Value = bJob[0] });
            Assert.Equal(1, await s.ExecuteNonQueryAsync(job));
        });

        // A reference to B's job fails exactly like a reference to a job that does not exist anywhere.
        async Task<PostgresException> ReferenceAsync(Guid jobId)
        {
            PostgresException? error = null;
            await AsTenantAsync(a.ToString(), async s =>
            {
                await using var app = s.CreateCommand("INSERT INTO applications (tenant_id, id, job_id, email) VALUES ($1, gen_random_uuid(), $2, 'taken@example.com')");
                app.Parameters.Add(new() { Value = a });
                app.Parameters.Add(new() { Value = jobId });
                error = await Assert.ThrowsAsync<PostgresException>(() => s.ExecuteNonQueryAsync(app));
            });
            return error!;
        }

        var otherJob = await SeedAsync(b, ["b-job-2"]);
        var toOther = await ReferenceAsync(otherJob[0]);
        var nowhere = Guid.NewGuid();
        var toNowhere = await ReferenceAsync(nowhere);
        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, toOther.SqlState);
        Assert.Equal(toNowhere.SqlState, toOther.SqlState);
        Assert.Equal(toNowhere.Detail!.Replace(nowhere.ToString(), "ID", StringComparison.Ordinal), toOther.Detail!.Replace(otherJob[0].ToString(), "ID", StringComparison.Ordinal));
        Assert.DoesNotContain(b.ToString(), toOther.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_database_lints_clean_when_linted_as_the_application_role()
    {
        var report = await new RlsLinter().LintAsync(_app);
        Assert.Empty(report.Findings);
    }

    private async Task RunCaseAsync(Guid a, Guid b, string[] titlesA, string[] titlesB)
    {
        var idsA = await SeedAsync(a, titlesA);
        var idsB = await SeedAsync(b, titlesB);
        var before = await SuperScalarAsync<string>($"SELECT string_agg(id::text || title, ',' ORDER BY id) FROM jobs WHERE tenant_id = '{b}'");

        await AsTenantAsync(a.ToString(), async s =>
        {
            foreach (var source in new[] { "jobs", "open_jobs", "events", "events_a", "events_b" })
            {
                await using var select = s.CreateCommand($"SELECT tenant_id, id FROM {source}");
                await using var reader = await s.ExecuteReaderAsync(select);
                var seen = new List<Guid>();
                while (await reader.ReadAsync())
                {
                    Assert.Equal(a, reader.GetGuid(0));
                    seen.Add(reader.GetGuid(1));
                }

                var expected = source switch
                {
                    "events_a" => idsA.Where((_, i) => i % 2 == 0),
                    "events_b" => idsA.Where((_, i) => i % 2 == 1),
                    _ => idsA,
                };
                Assert.Equal(expected.Order(), seen.Order());
            }

            await using var update = s.CreateCommand("UPDATE jobs SET title = 'pwned' WHERE id = ANY($1)");
            update.Parameters.Add(new() { Value = idsB, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
            Assert.Equal(0, await s.ExecuteNonQueryAsync(update));
            await using var delete = s.CreateCommand("DELETE FROM jobs WHERE id = ANY($1)");
            delete.Parameters.Add(new() { Value = idsB, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
            Assert.Equal(0, await s.ExecuteNonQueryAsync(delete));
            await using var events = s.CreateCommand("DELETE FROM events_b WHERE tenant_id = $1");
            events.Parameters.Add(new() { Value = b });
            Assert.Equal(0, await s.ExecuteNonQueryAsync(events));

            await using var insert = s.CreateCommand("INSERT INTO jobs (tenant_id, id, title) VALUES ($1, gen_random_uuid(), 'smuggled')");
            insert.Parameters.Add(new() { Value = b });
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, (await Assert.ThrowsAsync<PostgresException>(() => s.ExecuteNonQueryAsync(insert))).SqlState);
            await using var move = s.CreateCommand("UPDATE jobs SET tenant_id = $1 WHERE id = $2");
            move.Parameters.Add(new() { Value = b });
            move.Parameters.Add(new() { Value = idsA[0] });
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, (await Assert.ThrowsAsync<PostgresException>(() => s.ExecuteNonQueryAsync(move))).SqlState);
        });

        Assert.Equal(before, await SuperScalarAsync<string>($"SELECT string_agg(id::text || title, ',' ORDER BY id) FROM jobs WHERE tenant_id = '{b}'"));
        Assert.Equal(idsB.Length, await SuperScalarAsync<long>($"SELECT count(*) FROM events WHERE tenant_id = '{b}'"));
    }

    private async Task AsTenantAsync(string tenant, Func<TenantSession, Task> work)
    {
        await using var session = await _tenantDb.OpenSessionAsync(new TenantContext(tenant));
        await work(session);
    }

    /// <summary>Inserts jobs (and one event per job, alternating partitions) for a tenant as the superuser; returns the job ids.</summary>
    private async Task<Guid[]> SeedAsync(Guid tenant, string[] titles)
    {
        var ids = titles.Select(_ => Guid.NewGuid()).ToArray();
        await using var batch = _super.CreateBatch();
        for (var i = 0; i < ids.Length; i++)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("INSERT INTO jobs (tenant_id, id, title) VALUES ($1, $2, $3)") { Parameters = { new() { Value = tenant }, new() { Value = ids[i] }, new() { Value = titles[i] } } });
            batch.BatchCommands.Add(new NpgsqlBatchCommand("INSERT INTO events (tenant_id, id, kind) VALUES ($1, $2, $3)") { Parameters = { new() { Value = tenant }, new() { Value = ids[i] }, new() { Value = i % 2 == 0 ? "a" : "b" } } });
        }

        await batch.ExecuteNonQueryAsync();
        return ids;
    }

    private async Task SuperExecuteAsync(string sql)
    {
        await using var cmd = _super.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync();
    }

    private async Task<T> SuperScalarAsync<T>(string sql)
    {
        await using var cmd = _super.CreateCommand(sql);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    private static bool IsWellFormed(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(s[i]))
            {
                return false;
            }
        }

        return true;
    }
}
