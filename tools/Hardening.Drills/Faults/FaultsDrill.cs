using System.Globalization;
using System.Text.Json;
using Hardening.Drills.Topology;
using Hardening.Testing;

namespace Hardening.Drills.Faults;

/// <summary>
/// <c>drill faults</c> (issue 19): under a background load of writes, reads, résumé uploads and SSE watchers, it
/// (1) restarts Redis (single: SHUTDOWN SAVE and start, or <c>--redis-restart crash</c>: SIGKILL, data lost; cluster:
/// SIGKILL the master of the login-throttle slot, fail over, start it again), (2) stops PostgreSQL (immediate) and
/// kills PgBouncer and starts each again, (3) with two or more instances SIGKILLs one instance and starts it again.
/// Then it drains the outbox and the résumé queue and checks: no refresh token accepted twice, logins refused (429/503)
/// while Redis was down, 503 within the hang limit while the database was down and recovery after it, HAProxy routing
/// around the dead instance, every SSE watcher's events equal to its tenant's outbox (no loss, duplicate or other
/// tenant's event), no half-applied transition, no acknowledged write lost, each résumé job completed exactly once.
/// </summary>
internal sealed class FaultsDrill : IDrill
{
    private static readonly string[] LoginKinds = ["login"];
    private static readonly string[] AuthKinds = ["login", "refresh"];

    public string Name => "faults";

    public async Task<DrillResult> RunAsync(DrillArguments arguments, TextWriter output, CancellationToken cancellationToken)
    {
        var s = new Settings(arguments);
        var figures = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["instances"] = arguments.Instances,
            ["redis"] = arguments.Redis,
            ["quick"] = arguments.Quick,
            ["outageSeconds"] = s.OutageSeconds,
        };
        var violations = new List<string>();
        var options = TopologyOptions.From(arguments) with
        {
            Environment = new Dictionary<string, string?>
            {
                ["Auth__AccessTokenLifetime"] = "01:00:00",
                ["Ats__MaxResumesPerCandidate"] = "5",
            },
        };
        await using var topology = await DrillTopology.StartAsync(options, output, cancellationToken);

        // The harness runs PostgreSQL with synchronous_commit=off (fast tests): a crash then loses commits it already
        // acknowledged, which this drill reported as lost writes. Production runs with it on; so does this database
        // (a per-database setting overrides the server's), and PgBouncer's server connections are renewed to take it.
        await topology.Postgres.ExecuteAsync($"ALTER DATABASE \"{topology.Database}\" SET synchronous_commit = on");
        await topology.PgBouncer.AdminAsync("RECONNECT", cancellationToken);
        var recorder = new FaultRecorder();
        using var client = new FaultClient(topology.BaseAddress, recorder, TimeSpan.FromMilliseconds(s.HangLimitMs));
        var acks = new Acknowledged();

        // Tenants, their watchers (connected before any write, so each must see all of its tenant's events) and load.
        var users = new List<DrillUser>();
        for (var i = 0; i < s.Tenants; i++)
        {
            users.Add(await client.NewTenantAsync($"t{i}", cancellationToken));
        }

        var authUser = await client.NewTenantAsync("auth", cancellationToken);
        using var stopWatchers = new CancellationTokenSource();
        var watchers = users.SelectMany((u, i) => Enumerable.Range(0, s.WatchersPerTenant).Select(j => new SseWatcher($"t{i}-w{j}", u, topology.BaseAddress, recorder))).ToList();
        var watcherTasks = watchers.Select(w => Task.Run(() => w.RunAsync(stopWatchers.Token), CancellationToken.None)).ToList();
        await Task.WhenAll(watchers.Select(w => w.Connected)).WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        using var stopLoad = new CancellationTokenSource();
        var load = new FaultWorkload(client, users, s.WorkersPerTenant, TimeSpan.FromMilliseconds(s.PauseMs), acks).RunAsync(stopLoad.Token);
        await output.WriteLineAsync($"faults: {users.Count} tenant(s) x {s.WorkersPerTenant} writer(s), {watchers.Count} SSE watcher(s); outages of {s.OutageSeconds} s");
        await Task.Delay(TimeSpan.FromSeconds(s.SteadySeconds), cancellationToken);

        var race = new RefreshRace(client, authUser, s.Racers);
        var checks = new List<Func<IReadOnlyList<Outcome>, List<string>>>();
        var faults = new Dictionary<string, object?>(StringComparer.Ordinal);
        var resetsAllowed = false;
        try
        {
            if (s.Runs("redis"))
            {
                if (topology.RedisCluster is null)
                {
                    resetsAllowed = s.RedisCrash;
                    checks.Add(await RedisSingleAsync(topology, race, client, authUser, s, faults, output, cancellationToken));
                }
                else
                {
                    checks.Add(await RedisClusterAsync(topology, race, client, authUser, s, faults, output, cancellationToken));
                }

                await SettleAsync(topology, s, cancellationToken);
            }

            if (s.Runs("postgres"))
            {
                checks.Add(await DatabaseAsync("postgres", () => topology.Postgres.StopAsync(immediate: true), () => topology.Postgres.StartAgainAsync(), topology, authUser, recorder, s, faults, output));
                await SettleAsync(topology, s, cancellationToken);
            }

            if (s.Runs("pgbouncer"))
            {
                checks.Add(await DatabaseAsync("pgbouncer", () => topology.PgBouncer.KillAsync(), () => topology.PgBouncer.StartAgainAsync(cancellationToken), topology, authUser, recorder, s, faults, output));
                await SettleAsync(topology, s, cancellationToken);
            }

            if (s.Runs("instance") && topology.Instances.Count >= 2)
            {
                checks.Add(await InstanceAsync(topology, recorder, s, faults, output, cancellationToken));
                await SettleAsync(topology, s, cancellationToken);
            }
            else if (s.Runs("instance"))
            {
                await output.WriteLineAsync("faults: instance kill skipped (needs --instances 2 or more: with one instance a kill is a full outage)");
            }
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
        {
            violations.Add($"a fault could not be run: {e.GetType().Name}: {e.Message}");
        }

        // Stop the load, let the outbox and the résumé queue drain and the watchers catch up, then check.
        recorder.BeginFault();
        await stopLoad.CancelAsync();
        await load;
        var drained = await FaultDatabaseChecks.WaitDrainedAsync(topology.OwnerConnectionString, TimeSpan.FromSeconds(s.Quick ? 30 : 90), cancellationToken);
        var outbox = await FaultDatabaseChecks.OutboxAsync(topology.OwnerConnectionString, cancellationToken);
        var deadline = DateTime.UtcNow.AddSeconds(s.Quick ? 15 : 30);
        while (DateTime.UtcNow < deadline && watchers.Any(w => w.EventCount < (outbox.TryGetValue(w.Tenant, out var rows) ? rows.Count : 0)))
        {
            await Task.Delay(200, cancellationToken);
        }

        await Task.Delay(500, cancellationToken);   // a late duplicate would arrive now
        await stopWatchers.CancelAsync();
        await Task.WhenAll(watcherTasks);
        if (!drained)
        {
            violations.Add("the outbox or the résumé queue did not drain after the faults");
        }

        var outcomes = recorder.Snapshot();
        foreach (var check in checks)
        {
            violations.AddRange(check(outcomes));
        }

        var refresh = new Dictionary<string, object?>(StringComparer.Ordinal);
        violations.AddRange(FaultChecks.RefreshSingleUse(outcomes, refresh));
        var sse = new Dictionary<string, object?>(StringComparer.Ordinal);
        var finalOutbox = await FaultDatabaseChecks.OutboxAsync(topology.OwnerConnectionString, cancellationToken);
        violations.AddRange(FaultChecks.SseDelivery([.. watchers.Select(w => w.Snapshot())], outbox, finalOutbox, resetsAllowed, sse));
        sse["sseRefusedConnects"] = Stats.ByStatus(outcomes.Where(o => o.Kind == "sse" && !o.Succeeded));
        var database = new Dictionary<string, object?>(StringComparer.Ordinal);
        violations.AddRange(await FaultDatabaseChecks.CheckAsync(topology.OwnerConnectionString, acks, database, cancellationToken));

        figures["faults"] = faults;
        figures["refreshTokens"] = refresh;
        figures["sse"] = sse;
        figures["database"] = database;
        figures["requests"] = outcomes.Count(o => o.Kind != "sse");
        figures["refusedByHaProxy"] = outcomes.Count(o => o.FromProxy);
        figures["requestsByKind"] = new SortedDictionary<string, int>(outcomes.GroupBy(o => o.Kind).ToDictionary(g => g.Key, g => g.Count()), StringComparer.Ordinal);
        figures["violations"] = violations.Count;
        foreach (var (name, value) in faults)
        {
            await output.WriteLineAsync($"faults: {name}: {JsonSerializer.Serialize(value)}");
        }

        await output.WriteLineAsync($"faults: refresh tokens: {JsonSerializer.Serialize(refresh)}");
        await output.WriteLineAsync($"faults: sse: {JsonSerializer.Serialize(sse)}");
        var proxyRefusals = outcomes.Count(o => o.FromProxy);
        if (proxyRefusals > 0)
        {
            // HAProxy checks /health/ready, which fails while PostgreSQL or Redis is down: it then marks every instance
            // down and answers 503 itself, SSE connects included (a browser's EventSource does not retry after a 503).
            await output.WriteLineAsync($"faults: note: HAProxy answered {proxyRefusals} request(s) itself (503, no instance up), {outcomes.Count(o => o.FromProxy && o.Kind == "sse")} of them SSE connects");
        }

        await output.WriteLineAsync($"faults: database: {JsonSerializer.Serialize(database)}");
        return new DrillResult(Name, figures, violations);
    }

    /// <summary>Between faults: every instance back in HAProxy (its readiness check passes again), then the steady period.</summary>
    private static async Task SettleAsync(DrillTopology topology, Settings s, CancellationToken ct)
    {
        await topology.HaProxy.WaitForUpAsync(topology.Instances.Count, TimeSpan.FromSeconds(90), ct);
        await Task.Delay(TimeSpan.FromSeconds(s.SteadySeconds), ct);
    }

    /// <summary>Single Redis: refresh tokens consumed before, raced during and after; logins probed while it is down.</summary>
    private static async Task<Func<IReadOnlyList<Outcome>, List<string>>> RedisSingleAsync(DrillTopology topology, RefreshRace race, FaultClient client, DrillUser authUser, Settings s, Dictionary<string, object?> faults, TextWriter output, CancellationToken ct)
    {
        var redis = topology.Redis!;
        var before = await race.MintAsync(s.Tokens, ct);
        var during = await race.MintAsync(s.Tokens, ct);
        var after = await race.MintAsync(s.Tokens, ct);
        foreach (var t in before)
        {
            if (await race.ConsumeAsync(t, ct) != 200)
            {
                throw new InvalidOperationException("a refresh token could not be used once before the Redis fault");
            }
        }

        var recorder = client.Recorder;
        recorder.BeginFault();
        var name = s.RedisCrash ? "redis-crash" : "redis-restart";
        if (s.RedisCrash)
        {
            await redis.StopAsync();   // SIGKILL: with persistence off its data is gone
        }
        else
        {
            // A restart as an operator does it: SHUTDOWN SAVE writes the snapshot the server loads when it starts again.
            try
            {
                await redis.SendRawAsync("SHUTDOWN SAVE", ct);
            }
            catch (IOException)
            {
            }

            while (redis.ProcessId is not null)
            {
                await Task.Delay(20, ct);
            }
        }

        var down = recorder.NowMs;
        var (probes, raced) = await ProbeWhileDownAsync(client, race, authUser, during, s, ct);
        var up = recorder.NowMs;
        await redis.RestartAsync();
        var ready = recorder.NowMs;
        await WaitForLoginAsync(client, authUser, ct);
        var acceptedAfter = await race.RaceAsync(after, ct);
        var reusedBefore = await race.RaceAsync(before, ct);
        var reusedDuring = await race.RaceAsync(during, ct);
        var window = recorder.Window(name, down, up, ready);
        var fault = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["downMs"] = Math.Round(up - down),
            ["restartMs"] = Math.Round(ready - up),
            ["loginProbesWhileDown"] = probes,
            ["refreshRacesWhileDown"] = raced,
            ["tokensRacedAfter"] = after.Count,
            ["tokensAcceptedAfter"] = acceptedAfter,
            ["tokensConsumedBeforeAcceptedAgain"] = reusedBefore,
            ["tokensRacedDuringAcceptedAfter"] = reusedDuring,
        };
        faults[name] = fault;
        await output.WriteLineAsync($"faults: {name}: down {up - down:0} ms, {probes} login probes and {raced} refresh races while down; after: {acceptedAfter} of {after.Count} fresh tokens accepted once, {reusedBefore} of {before.Count} used-before tokens accepted again");
        return outcomes =>
        {
            var v = FaultChecks.FailClosed(outcomes, window, AuthKinds, fault);
            v.AddRange(FaultChecks.Recovery(outcomes, window, FaultChecks.WriteKinds, fault));
            if (probes == 0)
            {
                v.Add($"{name}: no login was tried while Redis was down; the fault did not happen under load");
            }

            return v;
        };
    }

    /// <summary>Cluster: SIGKILL the master of the login-throttle slot; logins must be refused until the failover.</summary>
    private static async Task<Func<IReadOnlyList<Outcome>, List<string>>> RedisClusterAsync(DrillTopology topology, RefreshRace race, FaultClient client, DrillUser authUser, Settings s, Dictionary<string, object?> faults, TextWriter output, CancellationToken ct)
    {
        var cluster = topology.RedisCluster!;
        var before = await race.MintAsync(s.Tokens, ct);
        var during = await race.MintAsync(s.Tokens, ct);
        var after = await race.MintAsync(s.Tokens, ct);
        foreach (var t in before)
        {
            if (await race.ConsumeAsync(t, ct) != 200)
            {
                throw new InvalidOperationException("a refresh token could not be used once before the cluster fault");
            }
        }

        var recorder = client.Recorder;
        recorder.BeginFault();
        var master = await cluster.MasterOfAsync("{hardening:login:}");
        await master.StopAsync();
        var down = recorder.NowMs;
        using var failedOver = new CancellationTokenSource();
        var probing = ProbeWhileDownAsync(client, race, authUser, during, s with { OutageSeconds = 60 }, failedOver.Token);
        // Failed over: a replica serves the slot as master (the cluster still says "ok" until the node timeout passes,
        // and a killed master started again before that would come back empty as master of its slots).
        // The check window ends where the last poll still saw no other master (a poll takes a while: redis-cli per
        // node), so a login accepted after an unobserved failover is never taken for a fail-open.
        var failoverDeadline = DateTime.UtcNow.AddSeconds(60);
        var stillDown = down;
        while (true)
        {
            var pollStart = recorder.NowMs;
            try
            {
                if (!ReferenceEquals(await cluster.MasterOfAsync("{hardening:login:}"), master))
                {
                    break;
                }

                stillDown = pollStart;
            }
            catch (InvalidOperationException) when (DateTime.UtcNow < failoverDeadline)
            {
                stillDown = pollStart;   // no live master served the slot when this poll began
            }

            await Task.Delay(50, ct);
        }

        var failedOverSeen = recorder.NowMs;
        await cluster.WaitUntilHealthyAsync(TimeSpan.FromSeconds(60));
        var up = stillDown;
        await failedOver.CancelAsync();
        var (probes, raced) = await probing;
        await WaitForLoginAsync(client, authUser, ct);
        await master.RestartAsync();
        await cluster.WaitForReplicationAsync(TimeSpan.FromSeconds(60));
        var ready = recorder.NowMs;
        var acceptedAfter = await race.RaceAsync(after, ct);
        var reusedBefore = await race.RaceAsync(before, ct);
        var reusedDuring = await race.RaceAsync(during, ct);
        var window = recorder.Window("redis-cluster-master", down, up, ready);
        var fault = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["killedNode"] = master.Port,
            ["failoverMs"] = new Dictionary<string, double> { ["atLeast"] = Math.Round(stillDown - down), ["atMost"] = Math.Round(failedOverSeen - down) },
            ["failoverToRejoinedMs"] = Math.Round(ready - failedOverSeen),
            ["loginProbesUntilFailover"] = probes,
            ["refreshRacesUntilFailover"] = raced,
            ["tokensRacedAfter"] = after.Count,
            ["tokensAcceptedAfter"] = acceptedAfter,
            ["tokensConsumedBeforeAcceptedAgain"] = reusedBefore,
            ["tokensRacedDuringAcceptedAfter"] = reusedDuring,
        };
        faults["redis-cluster-master"] = fault;
        await output.WriteLineAsync($"faults: redis-cluster-master: node :{master.Port} killed, failover after {stillDown - down:0}-{failedOverSeen - down:0} ms, {probes} login probes until then; {reusedBefore} of {before.Count} used-before tokens accepted again");
        return outcomes =>
        {
            var v = FaultChecks.FailClosed(outcomes, window, LoginKinds, fault);
            v.AddRange(FaultChecks.Recovery(outcomes, window, LoginKinds, fault));
            return v;
        };
    }

    /// <summary>While the store is down: a login every 100 ms and the "during" tokens raced one after another.</summary>
    private static async Task<(int Probes, int Raced)> ProbeWhileDownAsync(FaultClient client, RefreshRace race, DrillUser user, List<string> during, Settings s, CancellationToken stop)
    {
        using var outage = CancellationTokenSource.CreateLinkedTokenSource(stop);
        outage.CancelAfter(TimeSpan.FromSeconds(s.OutageSeconds));
        var probes = 0;
        var raced = 0;
        var login = Task.Run(async () =>
        {
            while (!outage.IsCancellationRequested)
            {
                await client.LoginAsync(user.Tenant, user.Email, user.Password, CancellationToken.None);
                probes++;
                await Task.Delay(100, CancellationToken.None);
            }
        }, CancellationToken.None);
        var refresh = Task.Run(async () =>
        {
            foreach (var token in during)
            {
                if (outage.IsCancellationRequested)
                {
                    break;
                }

                await race.RaceAsync([token], CancellationToken.None);
                raced++;
                await Task.Delay(100, CancellationToken.None);
            }
        }, CancellationToken.None);
        await Task.WhenAll(login, refresh);
        try
        {
            await Task.Delay(Timeout.Infinite, outage.Token);
        }
        catch (OperationCanceledException)
        {
        }

        return (probes, raced);
    }

    private static async Task WaitForLoginAsync(FaultClient client, DrillUser user, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await client.LoginAsync(user.Tenant, user.Email, user.Password, ct)).Status != 200)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("logins did not succeed again within 60 s after Redis came back");
            }

            await Task.Delay(100, ct);
        }
    }

    /// <summary>PostgreSQL or PgBouncer down for the outage, then started again: fail fast with 503, then recover.</summary>
    private static async Task<Func<IReadOnlyList<Outcome>, List<string>>> DatabaseAsync(string name, Func<Task> stop, Func<Task> start, DrillTopology topology, DrillUser user, FaultRecorder recorder, Settings s, Dictionary<string, object?> faults, TextWriter output)
    {
        recorder.BeginFault();
        await stop();
        var down = recorder.NowMs;
        await Task.Delay(TimeSpan.FromSeconds(s.OutageSeconds));
        var up = recorder.NowMs;
        await start();
        var ready = recorder.NowMs;

        // Past HAProxy: when does an instance itself serve a database read again, and pass its readiness check?
        using var direct = new FaultClient(topology.Instances[0].BaseAddress, new FaultRecorder(), TimeSpan.FromMilliseconds(s.HangLimitMs));
        double? instanceServes = null, instanceReady = null;
        var deadline = recorder.NowMs + 90_000;
        while ((instanceServes is null || instanceReady is null) && recorder.NowMs < deadline)
        {
            // A read with the access token (a login would count against the login throttle while it fails).
            if (instanceServes is null && (await direct.SendAsync("list", HttpMethod.Get, "/api/candidates?limit=1", user.AccessToken)).Status == 200)
            {
                instanceServes = recorder.NowMs;
            }

            if (instanceReady is null && (await direct.SendAsync("ready", HttpMethod.Get, "/health/ready")).Status == 200)
            {
                instanceReady = recorder.NowMs;
            }

            await Task.Delay(50);
        }

        var window = recorder.Window(name, down, up, ready);
        var fault = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["downMs"] = Math.Round(up - down),
            ["instanceServesAgainMs"] = instanceServes is { } a ? Math.Round(a - up) : null,
            ["instanceReadyAgainMs"] = instanceReady is { } b ? Math.Round(b - up) : null,
        };
        faults[name] = fault;
        await output.WriteLineAsync($"faults: {name}: down {up - down:0} ms, started again in {ready - up:0} ms");
        return outcomes =>
        {
            var v = FaultChecks.FailFast(outcomes, window, s.HangLimitMs, fault);
            v.AddRange(FaultChecks.Recovery(outcomes, window, FaultChecks.WriteKinds, fault));
            if (fault["failedDuringOutage"] is 0)
            {
                v.Add($"{name}: no request failed while it was down; the fault did not happen under load");
            }

            return v;
        };
    }

    /// <summary>SIGKILL one instance of several, start it again: HAProxy routes around it.</summary>
    private static async Task<Func<IReadOnlyList<Outcome>, List<string>>> InstanceAsync(DrillTopology topology, FaultRecorder recorder, Settings s, Dictionary<string, object?> faults, TextWriter output, CancellationToken ct)
    {
        var victim = topology.Instances[0];
        var pidBefore = victim.Process.ProcessId;
        recorder.BeginFault();
        await victim.KillAsync();
        var down = recorder.NowMs;
        await Task.Delay(TimeSpan.FromSeconds(s.OutageSeconds), ct);
        var up = recorder.NowMs;
        await victim.StartAgainAsync(ct);
        var ready = recorder.NowMs;
        var pidAfter = victim.Process.ProcessId;
        var window = recorder.Window("instance-kill", down, up, ready);
        var fault = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["instance"] = $"ats-{victim.Index}",
            ["pidBefore"] = pidBefore,
            ["pidAfter"] = pidAfter,
            ["downMs"] = Math.Round(up - down),
            ["restartToReadyMs"] = Math.Round(ready - up),
        };
        faults["instance-kill"] = fault;
        await output.WriteLineAsync($"faults: instance-kill: ats-{victim.Index} pid {pidBefore} killed, down {up - down:0} ms, pid {pidAfter} ready in {ready - up:0} ms");
        return outcomes =>
        {
            var v = FaultChecks.RouteAround(outcomes, window, s.RouteAroundLimitMs, fault);
            if (pidBefore is null || pidAfter is null || pidBefore == pidAfter)
            {
                v.Add($"instance-kill: the instance's process did not change ({pidBefore} -> {pidAfter})");
            }

            return v;
        };
    }

    /// <summary>The drill's options (all optional; <c>--quick</c> changes the defaults).</summary>
    private sealed record Settings
    {
        public Settings(DrillArguments a)
        {
            Quick = a.Quick;
            Fault = a.String("fault", "all", "all", "redis", "postgres", "pgbouncer", "instance");
            RedisCrash = a.String("redis-restart", "graceful", "graceful", "crash") == "crash";
            OutageSeconds = a.Int("outage", Quick ? 2 : 10, 1, 300);
            SteadySeconds = a.Int("steady", Quick ? 1 : 10, 0, 600);
            Tenants = a.Int("tenants", Quick ? 2 : 4, 1, 100);
            WorkersPerTenant = a.Int("writers", Quick ? 2 : 4, 1, 100);
            WatchersPerTenant = a.Int("watchers", Quick ? 1 : 3, 1, 1000);
            PauseMs = a.Int("pause-ms", Quick ? 20 : 10, 0, 10_000);
            Racers = a.Int("racers", 4, 2, 64);
            Tokens = a.Int("tokens", Quick ? 4 : 20, 1, 1000);
            HangLimitMs = a.Int("hang-ms", 8000, 100, 120_000);
            RouteAroundLimitMs = a.Int("route-around-ms", 10_000, 100, 120_000);
        }

        public bool Quick { get; init; }

        public string Fault { get; init; }

        public bool RedisCrash { get; init; }

        public int OutageSeconds { get; init; }

        public int SteadySeconds { get; init; }

        public int Tenants { get; init; }

        public int WorkersPerTenant { get; init; }

        public int WatchersPerTenant { get; init; }

        public int PauseMs { get; init; }

        public int Racers { get; init; }

        public int Tokens { get; init; }

        public int HangLimitMs { get; init; }

        public int RouteAroundLimitMs { get; init; }

        public bool Runs(string fault) => Fault == "all" || Fault == fault;
    }
}
