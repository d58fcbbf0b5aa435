namespace Hardening.Rls.Tests.Context;

/// <summary>
/// A library must not resume its awaits on the caller's <see cref="SynchronizationContext"/> (a UI or legacy
/// ASP.NET context deadlocks when the caller blocks on the task). Each operation that waits for the server is started
/// under a <see cref="CallerContext"/> that counts what is posted to it; none may be. PostgreSQL is reached through a
/// slow link (every reply held 5 ms): on plain loopback a reply is often in the socket before the client reads, the
/// read completes synchronously and a wrong await would post nothing.
/// </summary>
public sealed class CallerContextTests(AppRoleDatabaseFixture fixture) : IClassFixture<AppRoleDatabaseFixture>
{
    private static readonly TimeSpan SlowLink = TimeSpan.FromMilliseconds(5);

    [Fact]
    public async Task No_session_operation_resumes_on_the_callers_synchronization_context()
    {
        var tenant = Guid.NewGuid();
        await fixture.Server.ExecuteAsync($"INSERT INTO jobs (tenant_id, id, title) VALUES ('{tenant}', gen_random_uuid(), 'j')", fixture.Database);
        await using var proxy = RoundTripProxy.Start(fixture.Server.Host, fixture.Server.Port, SlowLink);
        await using var app = AtsDatabase.AppDataSource(fixture.Server, fixture.Database, b => b.Port = proxy.Port);
        var tenantDb = new TenantDataSource(app);
        var context = new CallerContext();
        var t = new TenantContext(tenant.ToString());

        var session = await context.Value(() => tenantDb.OpenSessionAsync(t).AsTask());
        await using (session)
        {
            await using var cmd = session.CreateCommand("SELECT count(*) FROM jobs");
            await using var update = session.CreateCommand("UPDATE jobs SET title = title");
            Assert.Equal(1L, await context.Value(() => session.ExecuteScalarAsync(cmd)));
            Assert.Equal(1, await context.Value(() => session.ExecuteNonQueryAsync(update)));
            await using (var reader = await context.Value(() => session.ExecuteReaderAsync(cmd)))
            {
            }

            foreach (var end in new Func<Task>[] { () => session.CommitAsync(), () => session.RollbackAsync() })
            {
                await context.Run(() => session.BeginTransactionAsync().AsTask());
                await context.Run(() => session.ApplyContextAsync());
                Assert.Equal(1L, await context.Value(() => session.ExecuteScalarAsync(cmd)));
                Assert.Equal(1, await context.Value(() => session.ExecuteNonQueryAsync(update)));
                await using (var reader = await context.Value(() => session.ExecuteReaderAsync(cmd)))
                {
                }

                await context.Run(end);
            }

            // Commands of one's own, sent with the context, and the plain paths once the context is in the transaction.
            await session.BeginTransactionAsync();
            await context.Run(() => session.ApplyContextAsync());
            Assert.Equal(1L, await context.Value(() => session.ExecuteScalarAsync(cmd)));
            Assert.Equal(1, await context.Value(() => session.ExecuteNonQueryAsync(update)));
            await context.Run(() => session.CommitAsync());

            await (await context.Value(() => tenantDb.OpenSessionAsync(t, [new("x.a", "1")]).AsTask())).DisposeAsync();
            await session.BeginTransactionAsync();
            await session.ApplyContextAsync();
            await context.Run(() => session.DisposeAsync().AsTask());
        }

        Assert.Equal(0, context.Posts);
    }

    [Fact]
    public async Task The_linter_does_not_resume_on_the_callers_synchronization_context()
    {
        await using var proxy = RoundTripProxy.Start(fixture.Server.Host, fixture.Server.Port, SlowLink);
        var owner = new NpgsqlConnectionStringBuilder(fixture.OwnerConnectionString) { Port = proxy.Port }.ConnectionString;
        await using var ds = NpgsqlDataSource.Create(owner);
        var linter = new RlsLinter(new RlsLintOptions { AppRole = fixture.Role, ProbePolicies = true });
        var context = new CallerContext();

        var report = await context.Value(() => linter.LintAsync(ds));
        await using (var connection = await ds.OpenConnectionAsync())
        {
            var again = await context.Value(() => linter.LintAsync(connection));
            Assert.Equal(report.Findings.Count, again.Findings.Count);
        }

        Assert.Equal(0, context.Posts);
    }

    [Fact]
    public async Task The_caller_context_sees_a_continuation_that_is_posted_to_it()
    {
        // The check above can fail: an await that keeps the context posts to it through the same slow link.
        await using var proxy = RoundTripProxy.Start(fixture.Server.Host, fixture.Server.Port, SlowLink);
        await using var ds = AtsDatabase.AppDataSource(fixture.Server, fixture.Database, b => b.Port = proxy.Port);
        var context = new CallerContext();
        await context.Run(async () =>
        {
            await using var connection = await ds.OpenConnectionAsync().ConfigureAwait(true);
        });
        Assert.True(context.Posts > 0);
    }
}
