using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Hardening.Drills.Topology;

namespace Hardening.Drills.Load;

/// <summary>The load drill's settings (<c>--users --seconds --tenants --sse --think-ms</c>; <c>--quick</c> shrinks the defaults).</summary>
internal sealed record LoadSettings(int Users, int Seconds, int Tenants, int SseWatchers, int ThinkMilliseconds, int ProbeRequests)
{
    /// <summary>
    /// For a fault drill running this load: a 503 (a dependency down, refused fast) is the expected answer and not a
    /// violation; any other 5xx still is. Off for the load drill itself.
    /// </summary>
    public bool ServiceUnavailableIsExpected { get; init; }

    public static LoadSettings From(DrillArguments a) => new(
        a.Int("users", a.Quick ? 12 : 200, 1, 20_000),
        a.Int("seconds", a.Quick ? 4 : 60, 1, 3600),
        a.Int("tenants", a.Quick ? 3 : 10, 2, 1000),
        a.Int("sse", a.Quick ? 6 : 200, 0, 20_000),
        a.Int("think-ms", a.Quick ? 10 : 500, 0, 60_000),
        a.Int("probe", a.Quick ? 5 : 30, 0, 10_000))
    {
        SseDirect = a.Flag("sse-direct"),
    };

    /// <summary>Watchers connect to the instances directly instead of through HAProxy (to tell the proxy's share of the delivery latency).</summary>
    public bool SseDirect { get; init; }
}

/// <summary>Disposes several disposables at once.</summary>
internal sealed class CompositeDisposable(IEnumerable<IDisposable> items) : IDisposable
{
    public void Dispose()
    {
        foreach (var item in items)
        {
            item.Dispose();
        }
    }
}

/// <summary>What a load run produced: the result, and the ledger and watchers it was judged on (for tests).</summary>
internal sealed record LoadOutcome(DrillResult Result, WriteLedger Ledger, IReadOnlyList<SseWatcher> Watchers);

/// <summary>
/// <c>drill load</c>: users of several tenants run a mixed workload (list, read, read of another tenant's candidate,
/// create with an Idempotency-Key and sometimes its retry, pipeline transitions) through HAProxy while SSE watchers
/// follow their tenant's stream; then the database is checked (every acknowledged write present exactly once in the
/// right tenant, every row shown belongs to the caller's tenant, transitions applied once) and the watchers' events
/// (none from another tenant, none missing, none twice; delivery latency).
/// </summary>
internal sealed class LoadDrill : IDrill
{
    private static readonly string[] Steps = ["APPLIED", "SCREENING", "INTERVIEW", "OFFER", "REJECTED"];
    private static readonly string[] Triggers = ["screen", "interview", "make_offer", "reject"];

    public string Name => "load";

    public async Task<DrillResult> RunAsync(DrillArguments arguments, TextWriter output, CancellationToken cancellationToken)
    {
        var settings = LoadSettings.From(arguments);
        var options = TopologyOptions.From(arguments);
        await using var topology = await DrillTopology.StartAsync(options, output, cancellationToken);
        return (await RunAsync(topology, settings, output, cancellationToken)).Result;
    }

    /// <summary>Runs the workload against a started topology and verifies it.</summary>
    public static async Task<LoadOutcome> RunAsync(DrillTopology topology, LoadSettings settings, TextWriter output, CancellationToken ct)
    {
        using var api = new AtsApi(topology.BaseAddress, maxConnections: Math.Max(100, settings.Users * 2));
        // SSE through HAProxy, or (--sse-direct, a diagnostic) straight to the instances, watcher i to instance i mod N.
        var sseTargets = settings.SseDirect ? topology.Instances.Select(i => i.BaseAddress).ToList() : [topology.BaseAddress];
        var sseClients = sseTargets.Select(target => new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, ConnectTimeout = TimeSpan.FromSeconds(30) })
        {
            BaseAddress = target,
            Timeout = Timeout.InfiniteTimeSpan,
        }).ToList();
        using var disposeSseClients = new CompositeDisposable(sseClients);

        // ---- what one request of each kind costs the back ends, measured alone, in a tenant of its own ---------------
        SortedDictionary<string, object>? probe = null;
        if (settings.ProbeRequests > 0)
        {
            probe = await CapacityProbe.RunAsync(topology, api, await api.NewTenantAsync("probe", ct), settings.ProbeRequests, output, ct);
        }

        // ---- set-up: tenants, users (each its own login), watchers on the users' tokens --------------------------------
        var setup = Stopwatch.StartNew();
        var tenants = await ParallelAsync(settings.Tenants, 8, i => RegisterAsync(api, i, ct));
        var users = await ParallelAsync(settings.Users, 16, i => api.LoginAsync(tenants[i % tenants.Length].Tenant, tenants[i % tenants.Length].Email, tenants[i % tenants.Length].Password, ct));
        var rssBefore = topology.Instances.Sum(i => ResidentMegabytes(i.Process.ProcessId));
        using var stopWatchers = new CancellationTokenSource();
        var watchers = Enumerable.Range(0, settings.SseWatchers).Select(i => new SseWatcher(sseClients[i % sseClients.Count], users[i % users.Length])).ToList();
        var watcherTasks = new List<Task>();
        using (var opening = new SemaphoreSlim(100))
        {
            foreach (var w in watchers)
            {
                await opening.WaitAsync(ct);
                watcherTasks.Add(Task.Run(() => w.RunAsync(stopWatchers.Token), CancellationToken.None));
                _ = w.Connected.Task.ContinueWith(_ => opening.Release(), TaskScheduler.Default);
            }

            await Task.WhenAll(watchers.Select(w => w.Connected.Task)).WaitAsync(TimeSpan.FromMinutes(5), ct);
        }

        var connected = watchers.Count(w => w.ConnectedAt is not null);
        await Task.Delay(1000, ct);
        var rssWatching = topology.Instances.Sum(i => ResidentMegabytes(i.Process.ProcessId));
        await output.WriteLineAsync($"load: {tenants.Length} tenants, {users.Length} users logged in, {connected}/{watchers.Count} SSE watchers connected ({setup.Elapsed.TotalSeconds:0.0} s)");
        await Task.Delay(1000, ct);   // every subscription in place before the first write

        // ---- the workload -----------------------------------------------------------------------------------------------
        var ledger = new WriteLedger();
        var stats = new RequestStats("read-other-tenant 404");
        var pools = tenants.Select(_ => new List<Guid>()).ToArray();
        var loadStarted = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var deadline = TimeSpan.FromSeconds(settings.Seconds);
        await Task.WhenAll(users.Select((u, i) => Task.Run(() => UserAsync(api, u, Array.FindIndex(tenants, t => t.Tenant == u.Tenant), pools, ledger, stats, settings, clock, deadline, new Random(i), ct), ct)));
        var elapsed = clock.Elapsed.TotalSeconds;

        // ---- SSE: wait until every watcher has every acknowledged creation of its tenant (or 15 s) --------------------
        var expected = ledger.Creates.GroupBy(c => c.Tenant).ToDictionary(g => g.Key, g => g.Select(c => c.Id).ToHashSet());
        var drain = Stopwatch.StartNew();
        while (drain.Elapsed < TimeSpan.FromSeconds(15) && watchers.Any(w => w.ConnectedAt is not null && Missing(w, expected).Count > 0))
        {
            await Task.Delay(200, ct);
        }

        await stopWatchers.CancelAsync();
        await Task.WhenAll(watcherTasks).WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None);

        // ---- verification -----------------------------------------------------------------------------------------------
        var violations = await ledger.VerifyAsync(topology.OwnerConnectionString, ct);
        var serverErrors = stats.ServerErrors - (settings.ServiceUnavailableIsExpected ? stats.Count("503") : 0);
        if (serverErrors > 0)
        {
            violations.Add($"{serverErrors} response(s) with a 5xx status (see errors)");
        }

        var candidateTenants = await WriteLedger.CandidateTenantsAsync(topology.OwnerConnectionString, ct);
        var sse = CheckWatchers(watchers, expected, candidateTenants, violations);

        stats.Print(output, elapsed);
        if (stats.ServerErrors > 0)
        {
            await PrintInstanceLogsAsync(topology, output);
        }

        var totalRequests = stats.Total;
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"load: {totalRequests} requests in {elapsed:0.0} s = {totalRequests / elapsed:0} req/s by {users.Length} users ({topology.Options.Instances} instance(s), Redis {topology.Options.Redis}); {ledger.Creates.Count} creations and {ledger.TransitionCount} transitions acknowledged; {ledger.SeenCount} (tenant, candidate) pairs shown"));
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"sse: {sse["connected"]} watchers, {sse["events"]} events received, delivery p50 {sse["delivery_p50_ms"]} ms, p95 {sse["delivery_p95_ms"]} ms, p99 {sse["delivery_p99_ms"]} ms, reconnects {sse["reconnects"]}"));

        var figures = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["instances"] = topology.Options.Instances,
            ["redis"] = topology.Options.Redis,
            ["pgbouncer_pool"] = topology.Options.PgBouncerPoolSize,
            ["users"] = users.Length,
            ["tenants"] = tenants.Length,
            ["think_ms"] = settings.ThinkMilliseconds,
            ["sse_direct"] = settings.SseDirect,
            ["seconds"] = Math.Round(elapsed, 1),
            ["requests"] = totalRequests,
            ["requests_per_second"] = Math.Round(totalRequests / elapsed, 1),
            ["endpoints"] = stats.Summary(elapsed),
            ["errors"] = stats.Errors(),
            ["outcomes"] = stats.Outcomes(),
            ["error_samples"] = stats.Samples(),
            ["acknowledged_creates"] = ledger.Creates.Count,
            ["acknowledged_transitions"] = ledger.TransitionCount,
            ["rows_shown"] = ledger.SeenCount,
            ["sse"] = sse,
            ["cost_per_request"] = probe,
            ["instances_rss_mb_before_watchers"] = Math.Round(rssBefore, 1),
            ["instances_rss_mb_with_watchers"] = Math.Round(rssWatching, 1),
            ["instances_rss_kb_per_watcher"] = connected == 0 ? null : Math.Round((rssWatching - rssBefore) * 1024 / connected, 1),
            ["started_at"] = loadStarted,
        };
        return new LoadOutcome(new DrillResult("load", figures, violations), ledger, watchers);
    }

    /// <summary>A process's resident memory in MB (from /proc), 0 when unknown.</summary>
    internal static double ResidentMegabytes(int? pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? 0 : double.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>The last lines each instance and HAProxy wrote (after 5xx answers: who failed and why).</summary>
    internal static async Task PrintInstanceLogsAsync(DrillTopology topology, TextWriter output)
    {
        foreach (var process in topology.Instances.Select(i => i.Process).Append(topology.HaProxy.Process))
        {
            var lines = process.Log.Split('\n');
            await output.WriteLineAsync($"--- last lines of {process.Name} ({lines.Length} kept) ---");
            foreach (var line in lines.TakeLast(15))
            {
                await output.WriteLineAsync("  " + line);
            }
        }
    }

    /// <summary>Checks the watchers' events: none of another tenant, none missing, none twice; delivery latency.</summary>
    internal static SortedDictionary<string, object> CheckWatchers(IReadOnlyList<SseWatcher> watchers, IReadOnlyDictionary<Guid, HashSet<Guid>> expected, IReadOnlyDictionary<Guid, Guid> candidateTenants, List<string> violations)
    {
        var latencies = new List<double>();
        long events = 0;
        foreach (var w in watchers)
        {
            foreach (var e in w.Events)
            {
                events++;
                if (e.Candidate is { } id)
                {
                    if (!candidateTenants.TryGetValue(id, out var tenant))
                    {
                        violations.Add($"sse: a watcher of tenant {w.User.Tenant} received {e.Type} {e.Id} about candidate {id}, which is not in the database");
                    }
                    else if (tenant != w.User.Tenant)
                    {
                        violations.Add($"sse crossed: a watcher of tenant {w.User.Tenant} received {e.Type} {e.Id} about candidate {id} of tenant {tenant}");
                    }
                }

                if (e.Type == "candidate.created" && e.CreatedAt is { } created)
                {
                    latencies.Add((e.ReceivedAt - created).TotalMilliseconds);
                }
            }

            if (w.DuplicateIds.Count > 0)
            {
                violations.Add($"sse duplicate: a watcher of tenant {w.User.Tenant} received {w.DuplicateIds.Count} event id(s) twice, e.g. {w.DuplicateIds[0]}");
            }

            if (w.ConnectedAt is not null && Missing(w, expected) is { Count: > 0 } missing)
            {
                violations.Add($"sse lost: a watcher of tenant {w.User.Tenant} never received candidate.created for {missing.Count} acknowledged candidate(s), e.g. {missing.First()}");
            }
        }

        var sorted = latencies.ToArray();
        Array.Sort(sorted);
        var failures = watchers.SelectMany(w => w.Failures).GroupBy(f => f.Key).ToDictionary(g => g.Key, g => g.Sum(f => f.Value));
        return new SortedDictionary<string, object>(StringComparer.Ordinal)
        {
            ["watchers"] = watchers.Count,
            ["connected"] = watchers.Count(w => w.ConnectedAt is not null),
            ["reconnects"] = watchers.Sum(w => Math.Max(0, w.Connects - 1)),
            ["connect_failures"] = failures,
            ["events"] = events,
            ["delivery_samples"] = sorted.Length,
            ["delivery_p50_ms"] = RequestStats.Percentile(sorted, 0.50),
            ["delivery_p95_ms"] = RequestStats.Percentile(sorted, 0.95),
            ["delivery_p99_ms"] = RequestStats.Percentile(sorted, 0.99),
        };
    }

    private static HashSet<Guid> Missing(SseWatcher w, IReadOnlyDictionary<Guid, HashSet<Guid>> expected)
    {
        if (!expected.TryGetValue(w.User.Tenant, out var ids))
        {
            return [];
        }

        var missing = new HashSet<Guid>(ids);
        foreach (var e in w.Events)
        {
            if (e.Type == "candidate.created" && e.Candidate is { } id)
            {
                missing.Remove(id);
            }
        }

        return missing;
    }

    private static async Task<(Guid Tenant, string Email, string Password)> RegisterAsync(AtsApi api, int i, CancellationToken ct)
    {
        var email = $"load-{i}-{Guid.NewGuid():N}@drill.test";
        var password = "drill password " + Guid.NewGuid();
        return (await api.RegisterAsync(email, password, ct), email, password);
    }

    internal static async Task<T[]> ParallelAsync<T>(int count, int parallelism, Func<int, Task<T>> action)
    {
        var results = new T[count];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (i, _) => results[i] = await action(i));
        return results;
    }

    private static async Task UserAsync(AtsApi api, AtsUser user, int tenantIndex, List<Guid>[] pools, WriteLedger ledger, RequestStats stats, LoadSettings settings, Stopwatch clock, TimeSpan deadline, Random random, CancellationToken ct)
    {
        var mine = new List<(Guid Id, int Step)>();
        while (clock.Elapsed < deadline && !ct.IsCancellationRequested)
        {
            var roll = random.Next(100);
            var pool = pools[tenantIndex];
            Guid? known;
            lock (pool)
            {
                known = pool.Count == 0 ? null : pool[random.Next(pool.Count)];
            }

            if (roll < 35)
            {
                await ListAsync(api, user, ledger, stats, ct);
            }
            else if (roll < 60 && known is { } id)
            {
                await ReadAsync(api, user, id, ledger, stats, ct);
            }
            else if (roll < 65 && OtherTenantsCandidate(pools, tenantIndex, random) is { } other)
            {
                await ReadOtherAsync(api, user, other, ledger, stats, ct);
            }
            else if (roll < 80 && mine.Count > 0)
            {
                var pick = random.Next(mine.Count);
                var (candidate, step) = mine[pick];
                var next = await TransitionAsync(api, user, candidate, step, ledger, stats, ct);
                if (next is null || next.Value >= Triggers.Length)
                {
                    mine.RemoveAt(pick);
                }
                else
                {
                    mine[pick] = (candidate, next.Value);
                }
            }
            else if (await CreateAsync(api, user, random.Next(10) == 0, ledger, stats, ct) is { } created)
            {
                mine.Add((created, 0));
                lock (pool)
                {
                    pool.Add(created);
                }
            }

            if (settings.ThinkMilliseconds > 0)
            {
                await Task.Delay(random.Next(settings.ThinkMilliseconds * 2 + 1), ct);
            }
        }
    }

    private static Guid? OtherTenantsCandidate(List<Guid>[] pools, int tenantIndex, Random random)
    {
        var other = pools[(tenantIndex + 1 + random.Next(pools.Length - 1)) % pools.Length];
        lock (other)
        {
            return other.Count == 0 ? null : other[random.Next(other.Count)];
        }
    }

    private static async Task ListAsync(AtsApi api, AtsUser user, WriteLedger ledger, RequestStats stats, CancellationToken ct)
    {
        var (status, body) = await api.SendAsync("list", AtsApi.Request(HttpMethod.Get, "/api/candidates?limit=20", user), stats, ct);
        if (status == 200)
        {
            foreach (var item in body.GetProperty("items").EnumerateArray())
            {
                ledger.Seen(user.Tenant, item.GetProperty("id").GetGuid());
            }
        }
    }

    private static async Task ReadAsync(AtsApi api, AtsUser user, Guid id, WriteLedger ledger, RequestStats stats, CancellationToken ct)
    {
        var (status, body) = await api.SendAsync("read", AtsApi.Request(HttpMethod.Get, $"/api/candidates/{id}", user), stats, ct);
        if (status == 200)
        {
            var shown = body.GetProperty("id").GetGuid();
            ledger.Seen(user.Tenant, shown);
            if (shown != id)
            {
                ledger.Violation($"read of candidate {id} by tenant {user.Tenant} returned candidate {shown}");
            }
        }
        else if (status == 404)
        {
            ledger.Violation($"lost: acknowledged candidate {id} answered 404 to a user of its own tenant {user.Tenant}");
        }
    }

    private static async Task ReadOtherAsync(AtsApi api, AtsUser user, Guid id, WriteLedger ledger, RequestStats stats, CancellationToken ct)
    {
        var (status, _) = await api.SendAsync("read-other-tenant", AtsApi.Request(HttpMethod.Get, $"/api/candidates/{id}", user), stats, ct);
        if (status is 200)
        {
            ledger.Violation($"crossed: a user of tenant {user.Tenant} read another tenant's candidate {id} (200, expected 404)");
        }
    }

    private static async Task<Guid?> CreateAsync(AtsApi api, AtsUser user, bool retry, WriteLedger ledger, RequestStats stats, CancellationToken ct)
    {
        var key = Guid.NewGuid().ToString("N");
        var name = "drill-" + key;
        HttpRequestMessage Request()
        {
            var r = AtsApi.Request(HttpMethod.Post, "/api/candidates", user, new { name, expectedSalary = 50_000 });
            r.Headers.Add("Idempotency-Key", key);
            return r;
        }

        var (status, body) = await api.SendAsync("create", Request(), stats, ct);
        Guid? id = status == 201 ? body.GetProperty("id").GetGuid() : null;
        if (id is { } created)
        {
            ledger.Created(new AcknowledgedCreate(user.Tenant, created, name));
        }

        if (retry || status is null)
        {
            // The client's retry with the same key: it must answer with the same candidate and create nothing.
            var (again, replay) = await api.SendAsync("create-retry", Request(), stats, ct);
            if (again == 201)
            {
                var replayed = replay.GetProperty("id").GetGuid();
                if (id is { } first && replayed != first)
                {
                    ledger.Violation($"duplicated: Idempotency-Key {key} answered candidate {first}, then {replayed}");
                }

                id ??= replayed;
                ledger.Created(new AcknowledgedCreate(user.Tenant, replayed, name));
            }
        }

        return id;
    }

    private static async Task<int?> TransitionAsync(AtsApi api, AtsUser user, Guid candidate, int step, WriteLedger ledger, RequestStats stats, CancellationToken ct)
    {
        var (status, body) = await api.SendAsync("transition", AtsApi.Request(HttpMethod.Post, $"/api/candidates/{candidate}/transitions", user,
            new { trigger = Triggers[step], reason = "load drill", expectedState = Steps[step] }), stats, ct);
        switch (status)
        {
            case 200:
                var to = body.GetProperty("to").GetString()!;
                ledger.Transitioned(candidate, to);
                if (to != Steps[step + 1])
                {
                    ledger.Violation($"transition {Triggers[step]} of {candidate} answered state {to}, expected {Steps[step + 1]}");
                }

                return step + 1;
            case null or >= 500:
                ledger.TransitionUncertain(candidate);
                return null;
            default:
                // Only this user moves this candidate, one request at a time: a refusal means the stored state is not
                // the one the acknowledged transitions left.
                ledger.Violation($"transition {Triggers[step]} of {candidate} from {Steps[step]} was refused with {status}: {body}");
                return null;
        }
    }
}
