using System.Collections.Concurrent;

namespace Hardening.Rls.Tests.Bypass;

public sealed class PoolLeakTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task Fifty_concurrent_workers_on_one_pool_never_see_another_tenants_rows_and_no_context_survives()
    {
        var db = await AtsDatabase.CreateAsync(postgres.Server, "rls_pool", PostgresServer.AppRole);
        var tenants = Enumerable.Range(0, 8).Select(_ => Guid.NewGuid()).ToArray();
        var values = string.Join(", ", tenants.SelectMany((t, i) => Enumerable.Range(0, i + 1).Select(_ => $"('{t}', gen_random_uuid(), 't{i}')")));
        await postgres.Server.ExecuteAsync($"INSERT INTO jobs (tenant_id, id, title) VALUES {values}", db);

        await using var app = AtsDatabase.AppDataSource(postgres.Server, db, b => b.MaxPoolSize = 8);
        var tenantDb = new TenantDataSource(app);
        var violations = new ConcurrentQueue<string>();
        var backends = new ConcurrentDictionary<int, int>();
        var requests = 0;

        async Task WorkerAsync(int worker)
        {
            var random = new Random(worker);
            for (var i = 0; i < 20; i++)
            {
                var pick = random.Next(tenants.Length);
                var tenant = tenants[pick];
                await using var session = await tenantDb.OpenSessionAsync(new TenantContext(tenant.ToString()));
                backends.TryAdd(session.Connection.ProcessID, 0);
                var transactional = random.Next(2) == 0;
                if (transactional)
                {
                    await session.BeginTransactionAsync();
                }

                await using (var read = session.CreateCommand("SELECT tenant_id, title FROM jobs"))
                await using (var reader = await session.ExecuteReaderAsync(read))
                {
                    var rows = 0;
                    while (await reader.ReadAsync())
                    {
                        rows++;
                        if (reader.GetGuid(0) != tenant || reader.GetString(1) != $"t{pick}")
                        {
                            violations.Enqueue($"worker {worker} as {tenant} saw {reader.GetGuid(0)}");
                        }
                    }

                    if (rows != pick + 1)
                    {
                        violations.Enqueue($"worker {worker} as tenant #{pick} saw {rows} rows, expected {pick + 1}");
                    }
                }

                if (transactional)
                {
                    await session.CommitAsync();
                }

                // The same physical connection, used without context after the transaction ended, sees nothing.
                await using (var after = new NpgsqlCommand("SELECT coalesce(current_setting('app.tenant_id', true), ''), (SELECT count(*) FROM jobs)", session.Connection))
                await using (var reader = await after.ExecuteReaderAsync())
                {
                    await reader.ReadAsync();
                    if (reader.GetString(0).Length != 0 || reader.GetInt64(1) != 0)
                    {
                        violations.Enqueue($"worker {worker}: after the transaction the connection still had context '{reader.GetString(0)}' / {reader.GetInt64(1)} rows");
                    }
                }

                Interlocked.Increment(ref requests);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 50).Select(w => Task.Run(() => WorkerAsync(w))));
        Assert.Empty(violations);
        Assert.Equal(50 * 20, requests);
        Assert.InRange(backends.Count, 1, 8); // the pool really was shared: at most 8 physical connections served 1000 requests
    }
}
