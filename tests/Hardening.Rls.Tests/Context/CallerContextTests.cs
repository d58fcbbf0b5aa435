namespace Hardening.Rls.Tests.Context;

/// <summary>
/// A library must not resume its awaits on the caller's <see cref="SynchronizationContext"/> (a UI or legacy
/// ASP.NET context deadlocks when the caller blocks on the task). Each session operation that waits for the server is
/// started under a context that counts what is posted to it; none may be.
/// </summary>
public sealed class CallerContextTests(AppRoleDatabaseFixture fixture) : IClassFixture<AppRoleDatabaseFixture>
{
    [Fact]
    public async Task No_session_operation_resumes_on_the_callers_synchronization_context()
    {
        var tenant = Guid.NewGuid();
        await fixture.Server.ExecuteAsync($"INSERT INTO jobs (tenant_id, id, title) VALUES ('{tenant}', gen_random_uuid(), 'j')", fixture.Database);
        await using var app = AtsDatabase.AppDataSource(fixture.Server, fixture.Database);
        var tenantDb = new TenantDataSource(app);
        var context = new CountingContext();
        var t = new TenantContext(tenant.ToString());

        var session = await Value(context, () => tenantDb.OpenSessionAsync(t).AsTask());
        await using (session)
        {
            await using var cmd = session.CreateCommand("SELECT count(*) FROM jobs");
            await using var update = session.CreateCommand("UPDATE jobs SET title = title");
            Assert.Equal(1L, await Value(context, () => session.ExecuteScalarAsync(cmd)));
            Assert.Equal(1, await Value(context, () => session.ExecuteNonQueryAsync(update)));
            await using (var reader = await Value(context, () => session.ExecuteReaderAsync(cmd)))
            {
            }

            foreach (var end in new Func<Task>[] { () => session.CommitAsync(), () => session.RollbackAsync() })
            {
                await Under(context, () => session.BeginTransactionAsync().AsTask());
                await Under(context, () => session.ApplyContextAsync());
                Assert.Equal(1L, await Value(context, () => session.ExecuteScalarAsync(cmd)));
                Assert.Equal(1, await Value(context, () => session.ExecuteNonQueryAsync(update)));
                await using (var reader = await Value(context, () => session.ExecuteReaderAsync(cmd)))
                {
                }

                await Under(context, end);
            }

            await (await Value(context, () => tenantDb.OpenSessionAsync(t, [new("x.a", "1")]).AsTask())).DisposeAsync();
            await session.BeginTransactionAsync();
            await Under(context, () => session.DisposeAsync().AsTask());
        }

        Assert.Equal(0, context.Posts);
    }

    private static async Task<T> Value<T>(SynchronizationContext context, Func<Task<T>> start)
    {
        Task<T>? task = null;
        await Under(context, () => task = start());
        return await task!.ConfigureAwait(false);
    }

    /// <summary>Starts <paramref name="start"/> with <paramref name="context"/> current, then awaits it outside it.</summary>
    private static async Task Under(SynchronizationContext context, Func<Task> start)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(context);
        Task task;
        try
        {
            task = start();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }

        await task.ConfigureAwait(false);
    }

    private sealed class CountingContext : SynchronizationContext
    {
        private int _posts;

        public int Posts => Volatile.Read(ref _posts);

        public override void Post(SendOrPostCallback d, object? state)
        {
            Interlocked.Increment(ref _posts);
            ThreadPool.UnsafeQueueUserWorkItem(_ =>
            {
                var previous = Current;
                SetSynchronizationContext(this);
                try
                {
                    d(state);
                }
                finally
                {
                    SetSynchronizationContext(previous);
                }
            }, null);
        }

        public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException("Send");

        public override SynchronizationContext CreateCopy() => this;
    }
}
