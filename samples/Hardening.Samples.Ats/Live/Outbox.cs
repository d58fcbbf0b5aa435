using Hardening.Rls;
using Hardening.Samples.Ats.Infrastructure;
using Hardening.Sse;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Hardening.Samples.Ats.Live;

/// <summary>
/// The transactional outbox: a change writes its event row in its own transaction, and <see cref="OutboxRelay"/>
/// publishes committed rows to the tenant's SSE stream. A rolled-back change leaves no row, so it is never published.
/// </summary>
internal static class Outbox
{
    /// <summary>The tenant's candidate stream.</summary>
    public static string StreamOf(Guid tenant) => $"tenant-{tenant}/candidates";

    public static async Task AddAsync(TenantSession session, Guid tenant, string eventType, string data, CancellationToken ct)
    {
        var insert = session.CreateCommand("INSERT INTO outbox (tenant_id, stream, event_type, data) VALUES ($1, $2, $3, $4)");
        insert.Parameters.Add(new NpgsqlParameter { Value = tenant });
        insert.Parameters.Add(new NpgsqlParameter { Value = StreamOf(tenant) });
        insert.Parameters.Add(new NpgsqlParameter { Value = eventType });
        insert.Parameters.Add(new NpgsqlParameter { Value = data });
        await session.ExecuteNonQueryAsync(insert, ct);
    }
}

/// <summary>Wakes the relay after a commit, so events do not wait for the next poll.</summary>
internal sealed class OutboxSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);
}

/// <summary>
/// Publishes committed outbox rows in order, per tenant: a transaction-scoped advisory lock (keyed on the tenant id,
/// which no caller chooses) keeps one relay per tenant across instances, and a row is marked published in the same
/// transaction that read it, after the publish succeeded. If the process or the database dies between the publish and
/// the commit, the row is published again on the next run; the publish is keyed by the row id (Hardening.Sse
/// deduplication key), so that second publish returns the first event and clients get it once (the faults drill saw
/// duplicates without the key).
/// </summary>
internal sealed class OutboxRelay(NpgsqlDataSource data, TenantDataSource db, SsePublisher sse, OutboxSignal signal, IOptions<AtsOptions> options, ILogger<OutboxRelay> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                foreach (var tenant in await TenantsWithWorkAsync(data, stoppingToken))
                {
                    try
                    {
                        await RelayAsync(tenant, stoppingToken);
                    }
                    catch (Exception e) when (e is NpgsqlException or SseStoreUnavailableException or TimeoutException)
                    {
                        AtsLog.OutboxPublishFailed(log, tenant, e);
                    }
                }

                await signal.WaitAsync(options.Value.WorkerPollInterval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (NpgsqlException e)
            {
                AtsLog.OutboxPublishFailed(log, Guid.Empty, e);
                await DelayAsync(options.Value.WorkerPollInterval, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // Anything else (a Redis or pool error of a kind not listed above) must not end the process: an
                // exception leaving ExecuteAsync stops the whole host, and the instance with it.
                AtsLog.WorkerPassFailed(log, "outbox relay", e);
                await DelayAsync(options.Value.WorkerPollInterval, stoppingToken);
            }
        }
    }

    /// <summary>Waits, and returns quietly when the host stops meanwhile.</summary>
    internal static async Task DelayAsync(TimeSpan delay, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(delay, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Tenants with unpublished events or due résumé jobs (ids only; the rows are read under RLS).</summary>
    internal static async Task<List<Guid>> TenantsWithWorkAsync(NpgsqlDataSource data, CancellationToken ct)
    {
        await using var cmd = data.CreateCommand("SELECT ats_work.tenants_with_work()");
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var tenants = new List<Guid>();
        while (await reader.ReadAsync(ct))
        {
            tenants.Add(reader.GetGuid(0));
        }

        return tenants;
    }

    private async Task RelayAsync(Guid tenant, CancellationToken ct)
    {
        await using var session = await db.OpenSessionAsync(new TenantContext(tenant.ToString(), "system:outbox-relay"), ct);
        await session.BeginTransactionAsync(ct);
        var claim = session.CreateCommand("SELECT pg_try_advisory_xact_lock(hashtextextended($1::text, 18))");
        claim.Parameters.Add(new NpgsqlParameter { Value = "outbox:" + tenant });
        if (await session.ExecuteScalarAsync(claim, ct) is not true)
        {
            await session.RollbackAsync(ct);
            return;
        }

        var pending = session.CreateCommand("SELECT id, stream, event_type, data FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT 200");
        var rows = new List<(long Id, string Stream, string Type, string Data)>();
        await using (var reader = await session.ExecuteReaderAsync(pending, cancellationToken: ct))
        {
            while (await reader.ReadAsync(ct))
            {
                rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
            }
        }

        var published = new List<long>();
        try
        {
            foreach (var row in rows)
            {
                // Keyed by the row: published again after a crash between this publish and the mark below (or by a
                // second relay that took over meanwhile), it is not delivered twice.
                try
                {
                    await sse.PublishAsync(row.Stream, row.Type, row.Data, "outbox-" + row.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), ct);
                }
                catch (ArgumentException e)
                {
                    // A row no publish can ever take (bad stream name, type or data): retrying it would hold back every
                    // later event of the tenant for ever. Log it and mark it done, so the rest flows.
                    AtsLog.OutboxRowUnpublishable(log, tenant, row.Id, e);
                }

                published.Add(row.Id);
            }
        }
        finally
        {
            if (published.Count > 0)
            {
                var mark = session.CreateCommand("UPDATE outbox SET published_at = now() WHERE id = ANY($1)");
                mark.Parameters.Add(new NpgsqlParameter { Value = published.ToArray() });
                await session.ExecuteNonQueryAsync(mark, CancellationToken.None);
                await session.CommitAsync(CancellationToken.None);
            }
        }
    }
}
