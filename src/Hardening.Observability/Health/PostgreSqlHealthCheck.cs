using Hardening.Observability;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Hardening.Observability;

/// <summary>
/// <c>SELECT 1</c> through the app's singleton <see cref="NpgsqlDataSource"/>: the check borrows a pooled connection
/// like any request would, so it never opens connections of its own beyond the pool.
/// </summary>
internal sealed class PostgreSqlHealthCheck(NpgsqlDataSource dataSource, IOptions<HardeningObservabilityOptions> options, PrometheusExporter exporter) : IHealthCheck
{
    private readonly Selector _idle = new("db_client_connection_count_value", new LabelMatcher("db_client_connection_state", "idle"));
    private readonly Selector _used = new("db_client_connection_count_value", new LabelMatcher("db_client_connection_state", "used"));

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var timeout = options.Value.Readiness.PostgreSqlTimeout;
        var data = PoolData();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            var connection = await dataSource.OpenConnectionAsync(cts.Token).ConfigureAwait(false);
            await using var connectionDisposal = connection.ConfigureAwait(false);
            var command = new NpgsqlCommand("SELECT 1", connection) { CommandTimeout = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds)) };
            await using var commandDisposal = command.ConfigureAwait(false);
            await command.ExecuteScalarAsync(cts.Token).ConfigureAwait(false);
            return HealthCheckResult.Healthy("PostgreSQL answered SELECT 1.", data);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"PostgreSQL did not answer SELECT 1 within {timeout.TotalMilliseconds:0} ms.", data: data);
        }
        catch (Exception ex) when (ex is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy("PostgreSQL is unreachable or refused SELECT 1.", ex, data);
        }
    }

    private Dictionary<string, object> PoolData()
    {
        var builder = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        var data = new Dictionary<string, object>
        {
            ["max_pool_size"] = builder.MaxPoolSize,
            ["min_pool_size"] = builder.MinPoolSize,
            ["pooling"] = builder.Pooling,
        };

        // Npgsql publishes pool usage on its own meter; the exporter listens to it by default.
        var query = new MetricQuery(exporter);
        if (query.Sum(_idle) is { } idle && query.Sum(_used) is { } used)
        {
            data["idle_connections"] = idle;
            data["busy_connections"] = used;
        }

        return data;
    }
}
