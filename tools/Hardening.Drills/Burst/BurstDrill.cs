using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hardening.Drills.Load;
using Hardening.Drills.Topology;
using Npgsql;

namespace Hardening.Drills.Burst;

/// <summary>The burst drill's settings (<c>--creates --uploads --clients --tenants</c>; <c>--quick</c> shrinks the defaults).</summary>
internal sealed record BurstSettings(int Creates, int Uploads, int Clients, int Tenants, int DrainSeconds)
{
    public static BurstSettings From(DrillArguments a)
    {
        var creates = a.Int("creates", a.Quick ? 300 : 10_000, 1, 1_000_000);
        return new(
            creates,
            a.Int("uploads", a.Quick ? 30 : 1_000, 0, creates),
            a.Int("clients", a.Quick ? 10 : 100, 1, 5_000),
            a.Int("tenants", a.Quick ? 3 : 10, 1, 1_000),
            a.Int("drain-seconds", a.Quick ? 60 : 180, 1, 3600));
    }
}

/// <summary>A résumé upload the API acknowledged (202).</summary>
internal sealed record AcknowledgedUpload(Guid Tenant, Guid Job, Guid Candidate, string Sha256);

/// <summary>What a burst run produced, for tests.</summary>
internal sealed record BurstOutcome(DrillResult Result, WriteLedger Ledger, IReadOnlyCollection<AcknowledgedUpload> Uploads);

/// <summary>
/// <c>drill burst</c>: as many clients as asked create candidates and upload résumés (one for every
/// creates/uploads-th candidate) as fast as they can. Every acknowledged item must be stored exactly once in its
/// tenant; every refusal must be a clear 4xx (429 included), never a 5xx or a dropped connection; afterwards the résumé
/// queue must drain (every job parsed) and each instance's <c>hardening_ingestion_queue_depth{queue="resumes"}</c>
/// must read 0.
/// </summary>
internal sealed class BurstDrill : IDrill
{
    public string Name => "burst";

    public async Task<DrillResult> RunAsync(DrillArguments arguments, TextWriter output, CancellationToken cancellationToken)
    {
        var settings = BurstSettings.From(arguments);
        await using var topology = await DrillTopology.StartAsync(TopologyOptions.From(arguments), output, cancellationToken);
        return (await RunAsync(topology, settings, output, cancellationToken)).Result;
    }

    public static async Task<BurstOutcome> RunAsync(DrillTopology topology, BurstSettings settings, TextWriter output, CancellationToken ct)
    {
        using var api = new AtsApi(topology.BaseAddress, maxConnections: settings.Clients * 2);
        var tenants = await LoadDrill.ParallelAsync(settings.Tenants, 8, i => api.NewTenantAsync($"burst-{i}", ct));
        var clients = await LoadDrill.ParallelAsync(settings.Clients, 16, i => api.LoginAsync(tenants[i % tenants.Length].Tenant, tenants[i % tenants.Length].Email, tenants[i % tenants.Length].Password, ct));
        var ledger = new WriteLedger();
        var uploads = new ConcurrentBag<AcknowledgedUpload>();
        var stats = new RequestStats();
        var uploadEvery = settings.Uploads == 0 ? int.MaxValue : Math.Max(1, settings.Creates / settings.Uploads);
        var next = -1;
        var uploadsLeft = settings.Uploads;
        await output.WriteLineAsync($"burst: {settings.Creates} creations and {settings.Uploads} résumé uploads by {clients.Length} clients of {tenants.Length} tenants");

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(clients.Select(client => Task.Run(async () =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < settings.Creates)
            {
                var candidate = await CreateAsync(api, client, n, ledger, stats, ct);
                if (candidate is { } id && n % uploadEvery == 0 && Interlocked.Decrement(ref uploadsLeft) >= 0)
                {
                    await UploadAsync(api, client, id, n, uploads, stats, ct);
                }
            }
        }, ct)));
        var elapsed = clock.Elapsed.TotalSeconds;
        var acknowledged = ledger.Creates.Count + uploads.Count;

        // ---- the queue drains, and every instance's depth gauge reads 0 ------------------------------------------------
        var drain = Stopwatch.StartNew();
        var operatorToken = await OperatorTokenAsync(api, ct);
        long queued;
        IReadOnlyList<double?> depths;
        while (true)
        {
            queued = await ScalarAsync(topology.OwnerConnectionString, "SELECT count(*) FROM resume_jobs WHERE state = 'queued'", ct);
            depths = await Task.WhenAll(topology.Instances.Select(i => QueueDepthAsync(i.BaseAddress, operatorToken, ct)));
            if ((queued == 0 && depths.All(d => d == 0)) || drain.Elapsed > TimeSpan.FromSeconds(settings.DrainSeconds))
            {
                break;
            }

            await Task.Delay(250, ct);
        }

        var drainSeconds = drain.Elapsed.TotalSeconds;

        // ---- verification -------------------------------------------------------------------------------------------
        var violations = await ledger.VerifyAsync(topology.OwnerConnectionString, ct);
        violations.AddRange(await VerifyUploadsAsync(topology.OwnerConnectionString, uploads, ct));
        foreach (var (outcome, count) in stats.Errors())
        {
            var status = outcome.Split(' ')[^1];
            if (!(status.Length == 3 && status[0] == '4'))
            {
                violations.Add($"unclear refusal: {count} x {outcome} (a refusal must be a 4xx or 429, not a 5xx or a dropped connection)");
            }
        }

        if (queued != 0)
        {
            violations.Add($"the résumé queue did not drain within {settings.DrainSeconds} s: {queued} job(s) still queued");
        }

        for (var i = 0; i < depths.Count; i++)
        {
            if (depths[i] != 0)
            {
                violations.Add($"instance ats-{i}: hardening_ingestion_queue_depth{{queue=\"resumes\"}} reads {depths[i]?.ToString(CultureInfo.InvariantCulture) ?? "nothing"} after the drain, not 0");
            }
        }

        stats.Print(output, elapsed);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"burst: {acknowledged} writes acknowledged in {elapsed:0.0} s = {acknowledged / elapsed:0} writes/s ({ledger.Creates.Count} creations, {uploads.Count} uploads; {topology.Options.Instances} instance(s)); queue drained in {drainSeconds:0.0} s"));
        var figures = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["instances"] = topology.Options.Instances,
            ["redis"] = topology.Options.Redis,
            ["pgbouncer_pool"] = topology.Options.PgBouncerPoolSize,
            ["clients"] = clients.Length,
            ["tenants"] = tenants.Length,
            ["creates_requested"] = settings.Creates,
            ["uploads_requested"] = settings.Uploads,
            ["creates_acknowledged"] = ledger.Creates.Count,
            ["uploads_acknowledged"] = uploads.Count,
            ["seconds"] = Math.Round(elapsed, 2),
            ["writes_per_second"] = Math.Round(acknowledged / elapsed, 1),
            ["endpoints"] = stats.Summary(elapsed),
            ["errors"] = stats.Errors(),
            ["error_samples"] = stats.Samples(),
            ["queue_drain_seconds"] = Math.Round(drainSeconds, 1),
            ["queue_depth_after"] = depths,
        };
        return new BurstOutcome(new DrillResult("burst", figures, violations), ledger, uploads);
    }

    /// <summary>Every acknowledged upload is stored once, in its tenant, for its candidate, and was parsed (state done).</summary>
    internal static async Task<List<string>> VerifyUploadsAsync(string ownerConnectionString, IEnumerable<AcknowledgedUpload> uploads, CancellationToken ct)
    {
        var violations = new List<string>();
        var rows = new Dictionary<Guid, (Guid Tenant, Guid Candidate, string Sha, string State)>();
        var bySha = new Dictionary<string, int>(StringComparer.Ordinal);
        await using (var conn = new NpgsqlConnection(ownerConnectionString))
        {
            await conn.OpenAsync(ct);
            await using var cmd = new NpgsqlCommand("SELECT id, tenant_id, candidate_id, sha256, state FROM resume_jobs", conn);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                rows[r.GetGuid(0)] = (r.GetGuid(1), r.GetGuid(2), r.GetString(3), r.GetString(4));
                bySha[r.GetString(3)] = bySha.GetValueOrDefault(r.GetString(3)) + 1;
            }
        }

        foreach (var u in uploads)
        {
            if (!rows.TryGetValue(u.Job, out var row))
            {
                violations.Add($"lost: acknowledged résumé job {u.Job} (candidate {u.Candidate}, tenant {u.Tenant}) is not in the database");
                continue;
            }

            if (row.Tenant != u.Tenant || row.Candidate != u.Candidate)
            {
                violations.Add($"crossed: résumé job {u.Job} acknowledged for candidate {u.Candidate} of tenant {u.Tenant} is stored for {row.Candidate} of tenant {row.Tenant}");
            }

            if (bySha.GetValueOrDefault(u.Sha256) != 1)
            {
                violations.Add($"duplicated: the résumé of job {u.Job} (one upload, one Idempotency-Key) is stored {bySha.GetValueOrDefault(u.Sha256)} times");
            }

            if (row.State != "done")
            {
                violations.Add($"résumé job {u.Job} is '{row.State}' after the drain, not 'done'");
            }
        }

        return violations;
    }

    private static async Task<Guid?> CreateAsync(AtsApi api, AtsUser user, int n, WriteLedger ledger, RequestStats stats, CancellationToken ct)
    {
        var name = $"burst-{n}-{Guid.NewGuid():N}";
        var request = AtsApi.Request(HttpMethod.Post, "/api/candidates", user, new { name, email = $"c{n}@burst.test" });
        request.Headers.Add("Idempotency-Key", name);
        var (status, body) = await api.SendAsync("create", request, stats, ct);
        if (status != 201)
        {
            return null;
        }

        var id = body.GetProperty("id").GetGuid();
        ledger.Created(new AcknowledgedCreate(user.Tenant, id, name));
        return id;
    }

    private static async Task UploadAsync(AtsApi api, AtsUser user, Guid candidate, int n, ConcurrentBag<AcknowledgedUpload> uploads, RequestStats stats, CancellationToken ct)
    {
        var pdf = Encoding.Latin1.GetBytes($"%PDF-1.4\n1 0 obj << >> endobj\nBT /F1 12 Tf ({n} {Guid.NewGuid():N} resume) Tj ET\n%%EOF\n");
        var sha = Convert.ToHexStringLower(SHA256.HashData(pdf));
        var request = AtsApi.Request(HttpMethod.Post, $"/api/candidates/{candidate}/resume", user);
        var file = new ByteArrayContent(pdf);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/pdf");
        request.Content = new MultipartFormDataContent { { file, "file", $"resume-{n}.pdf" } };
        request.Headers.Add("Idempotency-Key", "resume-" + sha[..32]);
        var (status, body) = await api.SendAsync("upload", request, stats, ct);
        if (status == 202)
        {
            uploads.Add(new AcknowledgedUpload(user.Tenant, body.GetProperty("id").GetGuid(), candidate, sha));
        }
    }

    /// <summary>An operator's token: the demo tenant's recruiter has the operator role (the sample's migration seeds it).</summary>
    private static async Task<string> OperatorTokenAsync(AtsApi api, CancellationToken ct) =>
        (await api.LoginAsync(Guid.Parse("11111111-1111-4111-8111-111111111111"), "alice@acme.example", "sample-password-acme", ct)).AccessToken;

    /// <summary>The instance's <c>hardening_ingestion_queue_depth{queue="resumes"}</c> from its /metrics, or null if absent.</summary>
    internal static async Task<double?> QueueDepthAsync(Uri instance, string operatorToken, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = instance, Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", operatorToken);
        using var response = await http.SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
        foreach (var line in (await response.Content.ReadAsStringAsync(ct)).Split('\n'))
        {
            if (line.StartsWith("hardening_ingestion_queue_depth{", StringComparison.Ordinal) && line.Contains("queue=\"resumes\"", StringComparison.Ordinal))
            {
                return double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand(sql, conn);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }
}
