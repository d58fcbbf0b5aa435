using System.Text.Json;
using Hardening.Drills;
using Hardening.Drills.Faults;
using Npgsql;

namespace Hardening.Drills.Tests;

/// <summary>
/// The faults drill: its quick form on the real topology must find nothing wrong and each fault must really have
/// happened (requests failed during the outage, the killed instance got a new process); and every checker reports
/// a violation planted in an otherwise clean recording.
/// </summary>
public sealed class FaultDrillTests
{
    private static readonly FaultWindow Down = new("redis", 1000, 3000, 3500);

    [Fact]
    public async Task Quick_faults_on_three_instances_find_nothing_wrong_and_each_fault_happened()
    {
        var output = new StringWriter();
        var result = await new FaultsDrill().RunAsync(DrillArguments.Parse(["faults", "--quick", "--instances", "3"]), output, CancellationToken.None);
        Assert.True(result.Violations.Count == 0, string.Join("\n", result.Violations) + "\n" + output);
        var faults = (Dictionary<string, object?>)result.Figures["faults"]!;
        var redis = (Dictionary<string, object?>)faults["redis-restart"]!;
        Assert.True((int)redis["failClosedChecked"]! > 0, output.ToString());
        Assert.True(((SortedDictionary<string, int>)redis["failClosedByStatus"]!).Keys.All(k => k.StartsWith("429", StringComparison.Ordinal) || k.StartsWith("503", StringComparison.Ordinal)), output.ToString());
        Assert.Equal(0, (int)redis["tokensConsumedBeforeAcceptedAgain"]!);
        foreach (var name in new[] { "postgres", "pgbouncer" })
        {
            var f = (Dictionary<string, object?>)faults[name]!;
            Assert.True((int)f["failedDuringOutage"]! > 0, $"{name}: {output}");
            Assert.True(((SortedDictionary<string, int>)f["byStatusDuringOutage"]!).Keys.All(k => k.StartsWith("503", StringComparison.Ordinal) || k.StartsWith('4')), $"{name}: {output}");
        }

        var kill = (Dictionary<string, object?>)faults["instance-kill"]!;
        Assert.NotEqual(kill["pidBefore"], kill["pidAfter"]);
        var sse = (Dictionary<string, object?>)result.Figures["sse"]!;
        Assert.True((long)sse["sseEventsDelivered"]! > 0 && (long)sse["sseReconnects"]! > 0, output.ToString());
        var database = (Dictionary<string, object?>)result.Figures["database"]!;
        Assert.True((int)database["candidatesAcknowledged"]! > 0 && (int)database["transitionsAcknowledged"]! > 0, output.ToString());
    }

    [Fact]
    public async Task Quick_cluster_master_kill_finds_nothing_wrong()
    {
        var output = new StringWriter();
        var result = await new FaultsDrill().RunAsync(DrillArguments.Parse(["faults", "--quick", "--redis", "cluster", "--fault", "redis"]), output, CancellationToken.None);
        Assert.True(result.Violations.Count == 0, string.Join("\n", result.Violations) + "\n" + output);
        var fault = (Dictionary<string, object?>)((Dictionary<string, object?>)result.Figures["faults"]!)["redis-cluster-master"]!;
        Assert.True((int)fault["failClosedChecked"]! > 0, output.ToString());
        Assert.Equal(0, (int)fault["tokensConsumedBeforeAcceptedAgain"]!);
    }

    [Fact]
    public void A_refresh_token_accepted_twice_is_reported()
    {
        Outcome[] clean = [new("refresh", 0, 10, 200, "rt-a"), new("refresh", 0, 10, 401, "rt-a"), new("refresh", 20, 30, 200, "rt-b")];
        Assert.Empty(FaultChecks.RefreshSingleUse(clean, new Dictionary<string, object?>()));
        var v = FaultChecks.RefreshSingleUse([.. clean, new("refresh", 40, 50, 200, "rt-a")], new Dictionary<string, object?>());
        Assert.Contains("rt-a", Assert.Single(v), StringComparison.Ordinal);
    }

    [Fact]
    public void A_login_accepted_or_answered_500_while_Redis_is_down_is_reported()
    {
        Outcome[] clean = [new("login", 1100, 1200, 429), new("login", 1300, 1400, 503), new("login", 500, 1100, 200), new("login", 2900, 3100, 200)];
        Assert.Empty(FaultChecks.FailClosed(clean, Down, ["login"], new Dictionary<string, object?>()));
        Assert.Contains("failed open", Assert.Single(FaultChecks.FailClosed([.. clean, new("login", 1500, 1600, 200)], Down, ["login"], new Dictionary<string, object?>())), StringComparison.Ordinal);
        Assert.Contains("500", Assert.Single(FaultChecks.FailClosed([.. clean, new("login", 1500, 1600, 500)], Down, ["login"], new Dictionary<string, object?>())), StringComparison.Ordinal);
    }

    [Fact]
    public void A_500_or_a_hang_while_the_database_is_down_is_reported_and_time_to_fail_is_measured()
    {
        Outcome[] clean = [new("create", 1100, 1150, 503), new("read", 1200, 1230, 503), new("list", 1300, 1301, 429)];
        var figures = new Dictionary<string, object?>();
        Assert.Empty(FaultChecks.FailFast(clean, Down, 1000, figures));
        Assert.Equal(3, figures["failedDuringOutage"]);
        Assert.Equal(50.0, ((Dictionary<string, double>)figures["timeToFailMs"]!)["max"]);
        Assert.Contains("expected 503", Assert.Single(FaultChecks.FailFast([.. clean, new("create", 1400, 1450, 500)], Down, 1000, new Dictionary<string, object?>())), StringComparison.Ordinal);
        Assert.Contains("hung", Assert.Single(FaultChecks.FailFast([.. clean, new("read", 1400, 2600, 503)], Down, 1000, new Dictionary<string, object?>())), StringComparison.Ordinal);
        Assert.Contains("hung", Assert.Single(FaultChecks.FailFast([.. clean, new("read", 1400, 2400, -1)], Down, 1000, new Dictionary<string, object?>())), StringComparison.Ordinal);

        // In flight at the stop: started before the window, it ran during it, so it is checked too.
        var before = new Dictionary<string, object?>();
        Assert.Contains("hung", Assert.Single(FaultChecks.FailFast([.. clean, new("create", 900, 2200, 503)], Down, 1000, before)), StringComparison.Ordinal);
        Assert.Equal(4, before["failedDuringOutage"]);
        Assert.Empty(FaultChecks.FailFast([.. clean, new("create", 900, 950, 200), new("read", 3100, 3200, 200)], Down, 1000, new Dictionary<string, object?>()));
    }

    [Fact]
    public void No_success_after_the_restart_is_reported_and_recovery_is_measured()
    {
        Outcome[] after = [new("create", 3000, 3100, 503), new("create", 3200, 3300, 201)];
        var figures = new Dictionary<string, object?>();
        Assert.Empty(FaultChecks.Recovery(after, Down, FaultChecks.WriteKinds, figures));
        Assert.Equal(300.0, figures["recoveryMs"]);
        Assert.Contains("did not recover", Assert.Single(FaultChecks.Recovery([after[0]], Down, FaultChecks.WriteKinds, new Dictionary<string, object?>())), StringComparison.Ordinal);
    }

    [Fact]
    public void Requests_still_failing_long_after_an_instance_died_are_reported()
    {
        var kill = new FaultWindow("instance-kill", 1000, 30_000, 35_000);
        Outcome[] clean = [new("read", 900, 1100, 0), new("create", 1500, 1600, 502), new("read", 5000, 5010, 200)];
        var figures = new Dictionary<string, object?>();
        Assert.Empty(FaultChecks.RouteAround(clean, kill, 10_000, figures));
        Assert.Equal(2, figures["failedRequests"]);
        Assert.Contains("routed around", Assert.Single(FaultChecks.RouteAround([.. clean, new("read", 20_000, 20_010, 503)], kill, 10_000, new Dictionary<string, object?>())), StringComparison.Ordinal);
    }

    [Fact]
    public void SSE_loss_duplicates_another_tenants_event_and_resets_are_reported()
    {
        var tenant = Guid.NewGuid();
        var other = Guid.NewGuid();
        var outbox = new Dictionary<Guid, IReadOnlyList<(string, string)>>
        {
            [tenant] = [("candidate.created", "a"), ("candidate.created", "b"), ("candidate.transitioned", "c")],
            [other] = [("candidate.created", "x")],
        };
        SseFrame[] clean = [new("e1", 0, null, "", 0), new("e1", 1, "candidate.created", "a", 1), new("e1", 2, "candidate.created", "b", 2), new("e1", 3, "candidate.transitioned", "c", 3)];
        Assert.Empty(Check(clean, false));

        // Lost: id 2 never arrived (and its event is missing against the outbox).
        var lost = Check([clean[0], clean[1], clean[3]], false);
        Assert.Contains(lost, v => v.Contains("lost 1 event", StringComparison.Ordinal));
        Assert.Contains(lost, v => v.Contains("never arrived", StringComparison.Ordinal));

        // Duplicate: id 2 twice.
        Assert.Contains(Check([.. clean[..3], clean[2], clean[3]], false), v => v.Contains("duplicate id", StringComparison.Ordinal));

        // Another tenant's event under the next id.
        Assert.Contains(Check([.. clean, new("e1", 4, "candidate.created", "x", 4)], false), v => v.Contains("another tenant", StringComparison.Ordinal));

        // A reset: a violation when the store kept its data; allowed after a data loss only for what it skipped.
        SseFrame[] reset = [clean[0], clean[1], new("e2", 1, "reset", "{\"reason\":\"epoch\"}", 2), new("e2", 2, "candidate.transitioned", "c", 3)];
        Assert.Contains(Check(reset, false), v => v.Contains("reset", StringComparison.Ordinal));
        Assert.Empty(Check(reset, true));
        Assert.Contains(Check([clean[0], clean[1], new("e2", 0, "reset", "{}", 2), new("e2", 1, "candidate.transitioned", "c", 3)], true), v => v.Contains("never arrived", StringComparison.Ordinal));

        // An epoch change without a reset.
        Assert.Contains(Check([clean[0], clean[1], new("e2", 1, "candidate.created", "b", 2), new("e2", 2, "candidate.transitioned", "c", 3)], false), v => v.Contains("without a reset", StringComparison.Ordinal));

        // A write that committed after the drained outbox was read (cancelled by its client when the load stopped): its
        // event is fine when the outbox read after the watchers stopped has it, and reported when no outbox has it.
        SseFrame[] late = [.. clean, new("e1", 4, "candidate.created", "late", 4)];
        var final = new Dictionary<Guid, IReadOnlyList<(string, string)>>(outbox) { [tenant] = [.. outbox[tenant], ("candidate.created", "late")] };
        Assert.Empty(FaultChecks.SseDelivery([new WatcherRecord("w", tenant, late, 2)], outbox, final, false, new Dictionary<string, object?>()));
        Assert.Contains(Check(late, false), v => v.Contains("in no outbox", StringComparison.Ordinal));

        List<string> Check(SseFrame[] frames, bool resetsAllowed) =>
            FaultChecks.SseDelivery([new WatcherRecord("w", tenant, frames, 2)], outbox, resetsAllowed, new Dictionary<string, object?>());
    }

    [Fact]
    public async Task The_database_checks_report_a_half_applied_transition_a_lost_write_and_a_job_completed_twice()
    {
        var postgres = await PostgresServer.Shared;
        var database = await postgres.CreateDatabaseAsync("faults");
        var cs = postgres.ForDatabase(database);
        await postgres.ExecuteAsync("""
            CREATE TABLE candidates (tenant_id uuid NOT NULL, id uuid PRIMARY KEY, status text NOT NULL);
            CREATE TABLE candidates_audit (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant_id uuid NOT NULL, entity_id text NOT NULL, from_state text NOT NULL, to_state text NOT NULL);
            CREATE TABLE outbox (tenant_id uuid NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, event_type text NOT NULL, data text NOT NULL, published_at timestamptz);
            CREATE TABLE resume_jobs (tenant_id uuid NOT NULL, id uuid PRIMARY KEY, state text NOT NULL, attempts integer NOT NULL);
            """, database);
        var tenant = Guid.NewGuid();
        var a = Guid.NewGuid();
        var job = Guid.NewGuid();
        await postgres.ExecuteAsync($"""
            INSERT INTO candidates VALUES ('{tenant}', '{a}', 'SCREENING');
            INSERT INTO candidates_audit (tenant_id, entity_id, from_state, to_state) VALUES ('{tenant}', '{a}', 'APPLIED', 'SCREENING');
            INSERT INTO outbox (tenant_id, event_type, data, published_at) VALUES
                ('{tenant}', 'candidate.created', '{JsonSerializer.Serialize(new { id = a })}', now()),
                ('{tenant}', 'candidate.transitioned', '{JsonSerializer.Serialize(new { candidateId = a, from = "APPLIED", to = "SCREENING" })}', now()),
                ('{tenant}', 'resume.parsed', '{JsonSerializer.Serialize(new { id = job, candidateId = a })}', now());
            INSERT INTO resume_jobs VALUES ('{tenant}', '{job}', 'done', 1);
            """, database);
        var acks = new Acknowledged();
        acks.Candidates.Add((tenant, a));
        acks.Transitions.Add((tenant, a, "APPLIED", "SCREENING"));
        acks.Resumes.Add((tenant, job, a));
        Assert.Empty(await FaultDatabaseChecks.CheckAsync(cs, acks, new Dictionary<string, object?>(), CancellationToken.None));

        // A status change without its audit row (half-applied), an acknowledged candidate that is not there, and the
        // job's completion event twice.
        var b = Guid.NewGuid();
        await postgres.ExecuteAsync($"""
            INSERT INTO candidates VALUES ('{tenant}', '{b}', 'INTERVIEW');
            INSERT INTO outbox (tenant_id, event_type, data, published_at) VALUES
                ('{tenant}', 'candidate.created', '{JsonSerializer.Serialize(new { id = b })}', now()),
                ('{tenant}', 'resume.parsed', '{JsonSerializer.Serialize(new { id = job, candidateId = a })}', now());
            """, database);
        acks.Candidates.Add((tenant, Guid.NewGuid()));
        var violations = await FaultDatabaseChecks.CheckAsync(cs, acks, new Dictionary<string, object?>(), CancellationToken.None);
        Assert.Contains(violations, v => v.Contains($"candidate {b}: status INTERVIEW but its audit history ends at nothing", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("is not in the database", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains($"résumé job {job} ran to completion 2 times", StringComparison.Ordinal));
    }
}
