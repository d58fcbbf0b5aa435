using System.Diagnostics;
using System.Globalization;
using System.Text;
using Hardening.Drills.Topology;
using Hardening.Testing;

namespace Hardening.Drills.Load;

/// <summary>
/// Measures what one request of each kind costs the shared back ends, with nothing else running: PostgreSQL
/// transactions through PgBouncer (<c>SHOW STATS</c> total_xact_count; PgBouncer 1.18 does not count extended-protocol
/// queries, so round trips per request are taken from the code in docs/operations.md) and Redis commands (<c>INFO stats</c> on every master), each the difference over a serial run of one kind minus
/// the background rate (outbox relay and résumé worker polls) measured while idle. Asynchronous follow-up work (the
/// outbox relay publishing a creation, the worker parsing a résumé) is counted with the request that caused it.
/// </summary>
internal static class CapacityProbe
{
    public static async Task<SortedDictionary<string, object>> RunAsync(DrillTopology topology, AtsApi api, AtsUser user, int perKind, TextWriter output, CancellationToken ct)
    {
        var stats = new RequestStats();
        var result = new SortedDictionary<string, object>(StringComparer.Ordinal);
        var candidates = new List<Guid>();

        // The background rate: every instance polls for outbox and résumé work.
        var idle = await MeasureAsync(topology, TimeSpan.FromSeconds(2), () => Task.Delay(2000, ct));
        var idleSeconds = idle.Seconds;

        async Task KindAsync(string kind, Func<int, Task> one)
        {
            var m = await MeasureAsync(topology, TimeSpan.FromMilliseconds(700), async () =>
            {
                for (var i = 0; i < perKind; i++)
                {
                    await one(i);
                }
            });
            double Per(double total, double background) => Math.Round(Math.Max(0, total - background * m.Seconds / idleSeconds) / perKind, 2);
            result[kind] = new SortedDictionary<string, double>(StringComparer.Ordinal)
            {
                ["pg_transactions"] = Per(m.Transactions, idle.Transactions),
                ["redis_commands"] = Per(m.RedisCommands, idle.RedisCommands),
            };
        }

        await KindAsync("login", _ => api.LoginAsync(user.Tenant, user.Email, user.Password, ct));
        await KindAsync("create", async i =>
        {
            var request = AtsApi.Request(HttpMethod.Post, "/api/candidates", user, new { name = $"probe-{Guid.NewGuid():N}", expectedSalary = 1 });
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));
            var (status, body) = await api.SendAsync("probe", request, stats, ct);
            if (status == 201)
            {
                candidates.Add(body.GetProperty("id").GetGuid());
            }
        });
        await KindAsync("list", _ => api.SendAsync("probe", AtsApi.Request(HttpMethod.Get, "/api/candidates?limit=20", user), stats, ct));
        await KindAsync("read", i => api.SendAsync("probe", AtsApi.Request(HttpMethod.Get, $"/api/candidates/{candidates[i % candidates.Count]}", user), stats, ct));
        await KindAsync("transition", i => api.SendAsync("probe", AtsApi.Request(HttpMethod.Post, $"/api/candidates/{candidates[i % candidates.Count]}/transitions", user,
            new { trigger = "screen", reason = "probe", expectedState = "APPLIED" }), stats, ct));
        await KindAsync("resume_upload_and_parse", async i =>
        {
            var request = AtsApi.Request(HttpMethod.Post, $"/api/candidates/{candidates[i % candidates.Count]}/resume", user);
            var file = new ByteArrayContent(Encoding.Latin1.GetBytes($"%PDF-1.4\nBT ({Guid.NewGuid():N}) Tj ET\n%%EOF\n"));
            file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/pdf");
            request.Content = new MultipartFormDataContent { { file, "file", "probe.pdf" } };
            await api.SendAsync("probe", request, stats, ct);
        });
        await KindAsync("sse_connect", async _ =>
        {
            using var request = AtsApi.Request(HttpMethod.Get, "/api/events", user);
            request.Headers.Accept.ParseAdd("text/event-stream");
            using var response = await api.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            await Task.Delay(50, ct);
        });

        var errors = stats.Errors();
        if (errors.Count > 0)
        {
            result["errors"] = errors;
        }

        await output.WriteLineAsync($"probe (per request, {perKind} of each, background subtracted):");
        await output.WriteLineAsync($"{"request",-26} {"PG transactions",16} {"Redis commands",15}");
        foreach (var (kind, value) in result)
        {
            if (value is SortedDictionary<string, double> v)
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{kind,-26} {v["pg_transactions"],16:0.0} {v["redis_commands"],15:0.0}"));
            }
        }

        return result;
    }

    private sealed record Measurement(double Seconds, long Transactions, long RedisCommands);

    private static async Task<Measurement> MeasureAsync(DrillTopology topology, TimeSpan settle, Func<Task> work)
    {
        var before = await CountersAsync(topology);
        var clock = Stopwatch.StartNew();
        await work();
        await Task.Delay(settle);   // let the relay and the worker finish what the requests started
        var after = await CountersAsync(topology);
        return new Measurement(clock.Elapsed.TotalSeconds, after.Transactions - before.Transactions, after.Redis - before.Redis);
    }

    private static async Task<(long Transactions, long Redis)> CountersAsync(DrillTopology topology)
    {
        var row = (await topology.PgBouncer.AdminAsync("SHOW STATS")).Single(r => r["database"] == topology.Database);
        long redis = 0;
        IEnumerable<RedisServer> nodes = topology.Redis is { } single ? [single] : topology.RedisCluster!.Nodes;
        foreach (var node in nodes.Where(n => n.ProcessId is not null))
        {
            var info = await RedisCluster.CliAsync(node, "INFO", "all");
            if (info.Contains("role:master", StringComparison.Ordinal))
            {
                redis += Field(info, "total_commands_processed:") - 1;   // this INFO itself
            }
        }

        return (long.Parse(row["total_xact_count"], CultureInfo.InvariantCulture), redis);
    }

    private static long Field(string info, string name)
    {
        var start = info.IndexOf(name, StringComparison.Ordinal) + name.Length;
        var end = info.IndexOf('\n', start);
        return long.Parse(info[start..(end < 0 ? info.Length : end)].Trim(), CultureInfo.InvariantCulture);
    }
}
