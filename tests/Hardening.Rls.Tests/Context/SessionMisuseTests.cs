using System.Data;
using System.Data.Common;
using System.Reflection;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Hardening.Rls.Tests.Context;

/// <summary>
/// A command created by a tenant session and run directly (not through the session) has no context and sees no rows,
/// which looks like an empty table. Every way to run it directly that its type offers (every public Execute* method,
/// found by reflection, and the ADO.NET interfaces) must either carry the context or not exist; through the session
/// it returns what the tenant really has (counted by the superuser, who bypasses row-level security).
/// </summary>
public sealed class SessionMisuseTests(AppRoleDatabaseFixture fixture) : IClassFixture<AppRoleDatabaseFixture>
{
    private static readonly string[] Sources = ["jobs", "open_jobs", "events", "events_a", "events_b"];

    public sealed record Case(string Source, int Rows, bool InTransaction);

    public static class Cases
    {
        public static Arbitrary<Case> Arbitrary() =>
            (from source in Gen.Elements(Sources)
             from rows in Gen.Choose(1, 4)
             from tx in ArbMap.Default.GeneratorFor<bool>()
             select new Case(source, rows, tx)).ToArbitrary();
    }

    [Property(MaxTest = 100, Arbitrary = [typeof(Cases)])]
    public void A_session_command_never_runs_without_the_tenant_context(Case c) => RunAsync(c).GetAwaiter().GetResult();

    [Fact]
    public async Task A_command_runs_only_through_the_session_that_created_it()
    {
        await using var app = AtsDatabase.AppDataSource(fixture.Server, fixture.Database);
        var tenantDb = new TenantDataSource(app);
        await using var a = await tenantDb.OpenSessionAsync(new TenantContext(Guid.NewGuid().ToString()));
        await using var b = await tenantDb.OpenSessionAsync(new TenantContext(Guid.NewGuid().ToString()));
        await using var cmd = a.CreateCommand("SELECT count(*) FROM jobs");
        var e = await Assert.ThrowsAsync<ArgumentException>(() => b.ExecuteScalarAsync(cmd));
        Assert.Equal("command", e.ParamName);
        Assert.Contains("another tenant session", e.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await a.ExecuteScalarAsync(cmd));
    }

    private async Task RunAsync(Case c)
    {
        var tenant = Guid.NewGuid();
        await SeedAsync(tenant, c.Rows);
        var expected = c.Source switch
        {
            "events_a" => (c.Rows + 1) / 2,
            "events_b" => c.Rows / 2,
            _ => c.Rows,
        };

        await using var app = AtsDatabase.AppDataSource(fixture.Server, fixture.Database);
        var tenantDb = new TenantDataSource(app);
        await using var session = await tenantDb.OpenSessionAsync(new TenantContext(tenant.ToString()));
        if (c.InTransaction)
        {
            await session.BeginTransactionAsync();
        }

        var sql = $"SELECT count(*) FROM {c.Source}";
        await using var cmd = session.CreateCommand(sql);
        var type = cmd.GetType();
        foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance).Where(m => m.Name.StartsWith("Execute", StringComparison.Ordinal)))
        {
            var args = method.GetParameters().Select(p => p.HasDefaultValue ? p.DefaultValue : p.ParameterType.IsValueType ? Activator.CreateInstance(p.ParameterType) : null).ToArray();
            object? result;
            try
            {
                result = await UnwrapAsync(method.Invoke(cmd, args));
            }
            catch (Exception e) when (e is InvalidOperationException or TargetInvocationException { InnerException: InvalidOperationException })
            {
                Assert.Contains("session", (e.InnerException ?? e).Message, StringComparison.OrdinalIgnoreCase);
                continue;
            }

            var seen = result switch
            {
                DbDataReader r => await FirstAsync(r),
                int => null, // rows affected: nothing to compare for a SELECT
                var v => v,
            };
            if (seen is not null)
            {
                Assert.True(Convert.ToInt64(seen, System.Globalization.CultureInfo.InvariantCulture) == expected, $"{type.Name}.{method.Name} ran '{sql}' without the tenant context: {seen} rows instead of {expected}");
            }
        }

        Assert.False(typeof(DbCommand).IsAssignableFrom(type) || typeof(IDbCommand).IsAssignableFrom(type), $"{type.Name} can be run as an ADO.NET command, without the session");
        await using var through = session.CreateCommand(sql);
        Assert.Equal((long)expected, await session.ExecuteScalarAsync(through));
    }

    private static async Task<object?> UnwrapAsync(object? value)
    {
        if (value is Task task)
        {
            await task;
            return task.GetType().GetProperty("Result")?.GetValue(task);
        }

        return value;
    }

    private static async Task<object?> FirstAsync(DbDataReader reader)
    {
        await using (reader)
        {
            return await reader.ReadAsync() ? reader.GetValue(0) : 0L;
        }
    }

    private async Task SeedAsync(Guid tenant, int rows)
    {
        await using var super = NpgsqlDataSource.Create(fixture.Server.ForDatabase(fixture.Database));
        await using var batch = super.CreateBatch();
        for (var i = 0; i < rows; i++)
        {
            var id = Guid.NewGuid();
            batch.BatchCommands.Add(new NpgsqlBatchCommand("INSERT INTO jobs (tenant_id, id, title) VALUES ($1, $2, 't')") { Parameters = { new() { Value = tenant }, new() { Value = id } } });
            batch.BatchCommands.Add(new NpgsqlBatchCommand("INSERT INTO events (tenant_id, id, kind) VALUES ($1, $2, $3)") { Parameters = { new() { Value = tenant }, new() { Value = id }, new() { Value = i % 2 == 0 ? "a" : "b" } } });
        }

        await batch.ExecuteNonQueryAsync();
    }
}
