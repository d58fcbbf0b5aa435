using System.Net.Http.Json;
using System.Text.Json;

namespace Hardening.Samples.Tests;

/// <summary>The pipeline over HTTP, the outbox to SSE, pagination, idempotency and Location headers.</summary>
[Collection(nameof(AtsCollection))]
public sealed class CandidateTests(AtsHost host)
{
    [Fact]
    public async Task LEFT_COMPANY_is_reached_over_HTTP_is_terminal_and_blacklists()
    {
        var s = await host.NewTenantAsync();
        var id = (await s.CreateCandidateAsync("Grace Hopper", expectedSalary: 100)).GetProperty("id").GetString()!;
        Assert.Equal(200, (await s.TransitionAsync(id, "screen", "APPLIED")).Status);
        Assert.Equal(200, (await s.TransitionAsync(id, "interview", "SCREENING")).Status);
        Assert.Equal(200, (await s.TransitionAsync(id, "make_offer", "INTERVIEW")).Status);
        var unsigned = await s.TransitionAsync(id, "hire", "OFFER");
        Assert.Equal(409, unsigned.Status);
        Assert.Equal("guard_failed", unsigned.Body.GetProperty("code").GetString());
        Assert.Equal(200, (await s.PatchAsync(id, new { offerSigned = true })).Status);
        Assert.Equal(200, (await s.TransitionAsync(id, "hire", "OFFER")).Status);
        var left = await s.TransitionAsync(id, "leave", "JOINED");
        Assert.Equal(200, left.Status);
        Assert.True(left.Body.GetProperty("isTerminal").GetBoolean());
        Assert.True(left.Body.GetProperty("isBlacklisted").GetBoolean());

        foreach (var trigger in new[] { "screen", "leave", "hire", "reject", "withdraw" })
        {
            var again = await s.TransitionAsync(id, trigger, "LEFT_COMPANY");
            Assert.Equal(409, again.Status);
            Assert.Equal("terminal", again.Body.GetProperty("code").GetString());
        }

        using var http = s.Client();
        var stored = await http.GetFromJsonAsync<JsonElement>($"/api/candidates/{id}");
        Assert.Equal("LEFT_COMPANY", stored.GetProperty("status").GetString());
        Assert.True(stored.GetProperty("isBlacklisted").GetBoolean());
        Assert.Empty(stored.GetProperty("permittedTriggers").EnumerateArray());

        var unblacklist = await s.PatchAsync(id, new { isBlacklisted = false });
        Assert.Equal(400, unblacklist.Status);
        Assert.True(unblacklist.Body.GetProperty("errors").TryGetProperty("isBlacklisted", out _));
        var status = await s.PatchAsync(id, new { status = "APPLIED" });
        Assert.Equal(400, status.Status);
        Assert.True(status.Body.GetProperty("errors").TryGetProperty("status", out _));

        // The generated trigger wrote the audit rows with the actor from the token, under the tenant.
        var audited = await host.OwnerScalarAsync<long>($"SELECT count(*) FROM candidates_audit WHERE entity_id = '{id}' AND tenant_id = '{s.Tenant}' AND actor_kind = 'USER'");
        Assert.Equal(5, audited);
    }

    [Fact]
    public async Task A_committed_transition_arrives_once_and_a_rolled_back_one_never()
    {
        var s = await host.NewTenantAsync();
        var committed = (await s.CreateCandidateAsync("Committed")).GetProperty("id").GetString()!;
        var rolledBackName = "rollback-" + Guid.NewGuid().ToString("N");
        var rolledBack = (await s.CreateCandidateAsync(rolledBackName)).GetProperty("id").GetString()!;
        var marker = (await s.CreateCandidateAsync("Marker")).GetProperty("id").GetString()!;

        // A rule only the database knows: C# accepts the transition, the database refuses it, the transaction rolls back.
        await host.OwnerExecuteAsync($"ALTER TABLE candidates ADD CONSTRAINT test_{rolledBackName.Replace('-', '_')} CHECK (status <> 'SCREENING' OR name <> '{rolledBackName}')");

        using var http = s.Client();
        await using var watch = await SseReader.OpenAsync(http, "/api/events");
        Assert.Equal(200, (await s.TransitionAsync(committed, "screen", "APPLIED")).Status);
        var refused = await s.TransitionAsync(rolledBack, "screen", "APPLIED");
        Assert.Equal(409, refused.Status);
        Assert.False(string.IsNullOrWhiteSpace(refused.Body.GetProperty("detail").GetString()));
        Assert.Equal(200, (await s.TransitionAsync(marker, "reject", "APPLIED")).Status);

        var frames = await watch.ReadUntilAsync((type, data) => type == "candidate.transitioned" && data.Contains(marker, StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        var transitions = frames.Where(f => f.Event == "candidate.transitioned").ToList();
        Assert.Single(transitions, f => f.Data.Contains(committed, StringComparison.Ordinal));
        Assert.DoesNotContain(transitions, f => f.Data.Contains(rolledBack, StringComparison.Ordinal));
        Assert.Equal(0, await host.OwnerScalarAsync<long>($"SELECT count(*) FROM outbox WHERE event_type = 'candidate.transitioned' AND data LIKE '%{rolledBack}%'"));
        using var check = s.Client();
        Assert.Equal("APPLIED", (await check.GetFromJsonAsync<JsonElement>($"/api/candidates/{rolledBack}")).GetProperty("status").GetString());

        // Last-Event-ID replay: a client that saw the first transition gets what followed, not it again.
        var firstId = transitions.First(f => f.Data.Contains(committed, StringComparison.Ordinal)).Id!;
        using var replayHttp = s.Client();
        replayHttp.DefaultRequestHeaders.Add("Last-Event-ID", firstId);
        await using var replay = await SseReader.OpenAsync(replayHttp, "/api/events");
        var replayed = await replay.ReadUntilAsync((type, data) => data.Contains(marker, StringComparison.Ordinal) && type == "candidate.transitioned", TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(replayed, f => f.Event == "candidate.transitioned" && f.Data.Contains(committed, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Keyset_pages_cover_every_candidate_once_and_the_limit_is_capped()
    {
        var s = await host.NewTenantAsync();
        var ids = new HashSet<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await s.CreateCandidateAsync($"Page {i}")).GetProperty("id").GetString()!);
        }

        using var http = s.Client();
        var seen = new List<string>();
        string? after = null;
        do
        {
            var page = await http.GetFromJsonAsync<JsonElement>($"/api/candidates?limit=2{(after is null ? "" : "&after=" + after)}");
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("id").GetString()!));
            after = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetString();
        }
        while (after is not null);

        Assert.Equal(ids.Order(), seen.Order());
        foreach (var bad in new[] { "0", "101", "100000", "-1", "x", "1.5" })
        {
            using var r = await http.GetAsync($"/api/candidates?limit={bad}");
            Assert.Equal(400, (int)r.StatusCode);
            Assert.Contains("limit", await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_retried_create_with_the_same_Idempotency_Key_creates_once_and_its_Location_resolves()
    {
        var s = await host.NewTenantAsync();
        using var http = s.Client();
        var key = Guid.NewGuid().ToString();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/candidates") { Content = JsonContent.Create(new { name = "Retried" }) };
            request.Headers.Add("Idempotency-Key", key);
            using var r = await http.SendAsync(request);
            Assert.Equal(201, (int)r.StatusCode);
            ids.Add((await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
            using var located = await http.GetAsync(r.Headers.Location);
            Assert.Equal(200, (int)located.StatusCode);
        }

        Assert.Single(ids.Distinct());
        var list = await http.GetFromJsonAsync<JsonElement>("/api/candidates?limit=100");
        Assert.Single(list.GetProperty("items").EnumerateArray());

        using var other = new HttpRequestMessage(HttpMethod.Post, "/api/candidates") { Content = JsonContent.Create(new { name = "Something else" }) };
        other.Headers.Add("Idempotency-Key", key);
        using var conflict = await http.SendAsync(other);
        Assert.Equal(422, (int)conflict.StatusCode);
    }
}

/// <summary>
/// Outbox rows that no publish can ever take (written by a bug or by hand: a bad stream name, an event type with a line
/// break, data with a carriage return, data over the size limit) are skipped and logged: they neither stop the process
/// (an exception leaving a background service stops the host) nor hold back the tenant's later events.
/// </summary>
[Collection(nameof(AtsCollection))]
public sealed class OutboxPoisonTests(AtsHost host)
{
    public static TheoryData<string, string, string, string> Unpublishable => new()
    {
        { "stream name with a space", "tenant-x/has space", "candidate.updated", "{}" },
        { "event type with a line break", "{stream}", "candidate.\nupdated", "{}" },
        { "data with a carriage return", "{stream}", "candidate.updated", "{\"a\":\"x\ry\"}" },
        { "data over the size limit", "{stream}", "candidate.updated", new string('x', 2_000_000) },
        { "empty event type", "{stream}", "", "{}" },
    };

    [Theory]
    [MemberData(nameof(Unpublishable))]
    public async Task An_unpublishable_outbox_row_is_skipped_and_later_events_still_arrive(string what, string stream, string eventType, string data)
    {
        var s = await host.NewTenantAsync();
        using var http = s.Client();
        await using var watch = await SseReader.OpenAsync(http, "/api/events");
        var tenantStream = $"tenant-{s.Tenant}/candidates";
        var row = await host.OwnerScalarAsync<long>(
            $"INSERT INTO outbox (tenant_id, stream, event_type, data) VALUES ('{s.Tenant}', '{stream.Replace("{stream}", tenantStream, StringComparison.Ordinal)}', E'{eventType.Replace("\n", "\\n", StringComparison.Ordinal)}', E'{data.Replace("\r", "\\r", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal)}') RETURNING id");

        var id = (await s.CreateCandidateAsync("After the poison row")).GetProperty("id").GetString()!;
        var frames = await watch.ReadUntilAsync((type, d) => type == "candidate.created" && d.Contains(id, StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.Contains(frames, f => f.Event == "candidate.created" && f.Data.Contains(id, StringComparison.Ordinal));
        Assert.DoesNotContain(frames, f => f.Data.Length > 1_000_000 || f.Event is { } e && e.Contains('\n', StringComparison.Ordinal));
        Assert.True(await host.OwnerScalarAsync<bool>($"SELECT published_at IS NOT NULL FROM outbox WHERE id = {row}"), $"{what}: the row is still pending");
        Assert.Contains($"Outbox row {row} of tenant {s.Tenant} can never be published", host.Log, StringComparison.Ordinal);
        using var alive = await s.Client().GetAsync("/api/candidates");
        Assert.True(alive.IsSuccessStatusCode, $"{what}: the host answered {(int)alive.StatusCode}");
    }
}
