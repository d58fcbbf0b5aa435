using System.Globalization;
using Hardening.Drills.Topology;
using Hardening.Rls;
using Npgsql;

namespace Hardening.Drills.Tests;

/// <summary>
/// Transaction pooling is where tenant context usually leaks: with PgBouncer's pool at one server connection, every
/// client shares the same PostgreSQL session, so whatever a tenant session leaves behind, the next client sees.
/// </summary>
public sealed class TransactionPoolingTests
{
    private static readonly string[] Tenants = ["11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"];

    [Fact]
    public async Task Tenant_context_does_not_outlive_its_transaction_on_a_shared_server_connection()
    {
        await using var topology = await DrillTopology.StartAsync(new TopologyOptions { Instances = 1, PgBouncerPoolSize = 1 }, TextWriter.Null);
        await using var data = NpgsqlDataSource.Create(topology.AppConnectionString);
        var tenants = new TenantDataSource(data);

        // The application role sees the demo tenants' accounts only under a context (row-level security).
        for (var round = 0; round < 20; round++)
        {
            var tenant = Tenants[round % 2];
            await using (var session = await tenants.OpenSessionAsync(new TenantContext(tenant, "drill")))
            {
                var cmd = session.CreateCommand("SELECT count(*) FROM accounts WHERE tenant_id <> $1::uuid");
                cmd.Parameters.Add(new NpgsqlParameter { Value = tenant });
                Assert.Equal(0L, await session.ExecuteScalarAsync(cmd));
                var own = session.CreateCommand("SELECT count(*) FROM accounts");
                Assert.Equal(1L, await session.ExecuteScalarAsync(own));
            }

            await using (var session = await tenants.OpenSessionAsync(new TenantContext(tenant, "drill")))
            {
                await session.BeginTransactionAsync();
                var first = session.CreateCommand("SELECT current_setting('app.tenant_id')");
                Assert.Equal(tenant, await session.ExecuteScalarAsync(first));
                var second = session.CreateCommand("SELECT count(*) FROM accounts");
                Assert.Equal(1L, await session.ExecuteScalarAsync(second));
                await session.CommitAsync();
            }

            // The next client of the one server connection, with no context: no tenant, no rows.
            Assert.Equal(("", 0L), await WithoutContextAsync(data));
        }

        // All of it went through one server connection.
        var pool = (await topology.PgBouncer.AdminAsync("SHOW POOLS")).Single(p => p["database"] == topology.Database && p["user"] == "ats_app");
        Assert.Equal(1, int.Parse(pool["sv_active"], CultureInfo.InvariantCulture) + int.Parse(pool["sv_idle"], CultureInfo.InvariantCulture) + int.Parse(pool["sv_used"], CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task A_session_level_setting_does_leak_so_the_check_above_can_fail()
    {
        await using var topology = await DrillTopology.StartAsync(new TopologyOptions { Instances = 1, PgBouncerPoolSize = 1 }, TextWriter.Null);
        await using var data = NpgsqlDataSource.Create(topology.AppConnectionString);
        await using (var conn = await data.OpenConnectionAsync())
        {
            await using var set = new NpgsqlCommand($"SELECT set_config('app.tenant_id', '{Tenants[0]}', false)", conn);
            await set.ExecuteNonQueryAsync();
        }

        Assert.Equal((Tenants[0], 1L), await WithoutContextAsync(data));
    }

    private static async Task<(string Tenant, long Rows)> WithoutContextAsync(NpgsqlDataSource data)
    {
        await using var conn = await data.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("SELECT coalesce(current_setting('app.tenant_id', true), ''), (SELECT count(*) FROM accounts)", conn);
        await using var r = await cmd.ExecuteReaderAsync();
        await r.ReadAsync();
        return (r.GetString(0), r.GetInt64(1));
    }
}
