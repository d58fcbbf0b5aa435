using Hardening.Rls;
using Npgsql;
using NpgsqlTypes;

namespace Hardening.Benchmarks.Rls;

/// <summary>
/// The primary-key lookup for one tenant, three ways, over one pooled data source with the given
/// <c>Max Auto Prepare</c>: no RLS and no context (the baseline), through <see cref="TenantDataSource"/>, and the naive
/// form (separate BEGIN, set_config, query, COMMIT). Three more forms take TenantDataSource's cost apart: each adds one
/// piece to the baseline (<see cref="RlsLookupForm"/>).
/// </summary>
internal sealed class RlsLookups : IDisposable
{
    private readonly NpgsqlDataSource _app;
    private readonly TenantDataSource _tenantDb;
    private readonly TenantContext _tenant;
    private readonly Guid _tenantId;
    private readonly Guid _rowId;

    public RlsLookups(int maxAutoPrepare)
    {
        var db = RlsBenchDatabase.Shared;
        _app = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(db.AppConnectionString) { MaxAutoPrepare = maxAutoPrepare, AutoPrepareMinUsages = 2 }.ConnectionString);
        _tenantDb = new TenantDataSource(_app);
        (_tenantId, _rowId) = db.Sample;
        _tenant = new TenantContext(_tenantId.ToString());
        var expected = NoRls().Result;
        if (Naive().Result != expected || Enum.GetValues<RlsLookupForm>().Any(f => Get(f)().Result != expected))
        {
            throw new InvalidOperationException("The lookups disagree.");
        }
    }

    public void Dispose() => _app.Dispose();

    public Func<Task<string>> Get(RlsLookupForm form) => form switch
    {
        RlsLookupForm.TenantDataSource => TenantDataSource,
        RlsLookupForm.HandBuiltBatch => () => Batch(ContextCommand(), new NpgsqlBatchCommand("SELECT title FROM jobs WHERE id = $1") { Parameters = { new() { Value = _rowId } } }),
        RlsLookupForm.ContextThenPlainLookup => () => Batch(ContextCommand(), PlainLookupCommand()),
        RlsLookupForm.EmptyStatementThenPlainLookup => () => Batch(
            new NpgsqlBatchCommand("SELECT $1::text") { Parameters = { new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = _tenant.TenantId } } },
            PlainLookupCommand()),
        _ => throw new ArgumentOutOfRangeException(nameof(form), form, null),
    };

    public async Task<string> NoRls()
    {
        await using var conn = await _app.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("SELECT title FROM jobs_plain WHERE tenant_id = $1 AND id = $2", conn)
        {
            Parameters = { new() { Value = _tenantId }, new() { Value = _rowId } },
        };
        return (string)(await cmd.ExecuteScalarAsync())!;
    }

    public async Task<string> TenantDataSource()
    {
        await using var session = await _tenantDb.OpenSessionAsync(_tenant);
        await using var cmd = session.CreateCommand("SELECT title FROM jobs WHERE id = $1");
        cmd.Parameters.Add(new NpgsqlParameter { Value = _rowId });
        return (string)(await session.ExecuteScalarAsync(cmd))!;
    }

    public async Task<string> Naive()
    {
        await using var conn = await _app.OpenConnectionAsync();
        await using (var begin = new NpgsqlCommand("BEGIN", conn))
        {
            await begin.ExecuteNonQueryAsync();
        }

        await using (var set = new NpgsqlCommand("SELECT set_config('app.tenant_id', $1, true)", conn) { Parameters = { new() { Value = _tenantId.ToString() } } })
        {
            await set.ExecuteNonQueryAsync();
        }

        string title;
        await using (var query = new NpgsqlCommand("SELECT title FROM jobs WHERE id = $1", conn) { Parameters = { new() { Value = _rowId } } })
        {
            title = (string)(await query.ExecuteScalarAsync())!;
        }

        await using (var commit = new NpgsqlCommand("COMMIT", conn))
        {
            await commit.ExecuteNonQueryAsync();
        }

        return title;
    }

    private async Task<string> Batch(NpgsqlBatchCommand first, NpgsqlBatchCommand lookup)
    {
        await using var conn = await _app.OpenConnectionAsync();
        await using var batch = new NpgsqlBatch(conn) { BatchCommands = { first, lookup } };
        await using var reader = await batch.ExecuteReaderAsync();
        await reader.NextResultAsync();
        await reader.ReadAsync();
        return reader.GetString(0);
    }

    private NpgsqlBatchCommand ContextCommand() => new(_tenantDb.ContextStatement)
    {
        Parameters =
        {
            new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = _tenant.TenantId },
            new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = "" },
            new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = "" },
        },
    };

    private NpgsqlBatchCommand PlainLookupCommand() => new("SELECT title FROM jobs_plain WHERE tenant_id = $1 AND id = $2")
    {
        Parameters = { new() { Value = _tenantId }, new() { Value = _rowId } },
    };

    /// <summary>Makes <paramref name="requests"/> lookups with <paramref name="concurrency"/> callers, each one after another.</summary>
    public static async Task<int> Run(Func<Task<string>> lookup, int requests, int concurrency)
    {
        if (concurrency == 1)
        {
            return await Caller(lookup, requests);
        }

        var callers = new Task<int>[concurrency];
        for (var i = 0; i < callers.Length; i++)
        {
            callers[i] = Task.Run(() => Caller(lookup, requests / concurrency));
        }

        return (await Task.WhenAll(callers)).Sum();
    }

    private static async Task<int> Caller(Func<Task<string>> lookup, int requests)
    {
        var length = 0;
        for (var i = 0; i < requests; i++)
        {
            length += (await lookup()).Length;
        }

        return length;
    }
}
