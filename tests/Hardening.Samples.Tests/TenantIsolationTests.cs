using System.Net.Http.Json;
using System.Text.Json;

namespace Hardening.Samples.Tests;

/// <summary>Tenant A cannot read, change, transition or watch tenant B's candidates.</summary>
[Collection(nameof(AtsCollection))]
public sealed class TenantIsolationTests(AtsHost host)
{
    [Fact]
    public async Task Another_tenants_candidate_is_404_for_read_patch_and_transition_and_absent_from_the_list()
    {
        var a = await host.NewTenantAsync();
        var b = await host.NewTenantAsync();
        var id = (await a.CreateCandidateAsync("Only for A")).GetProperty("id").GetString()!;

        using var bHttp = b.Client();
        Assert.Equal(404, (int)(await bHttp.GetAsync($"/api/candidates/{id}")).StatusCode);
        Assert.Equal(404, (await b.PatchAsync(id, new { name = "hijacked" })).Status);
        Assert.Equal(404, (await b.TransitionAsync(id, "reject", "APPLIED")).Status);
        var list = await bHttp.GetFromJsonAsync<JsonElement>("/api/candidates?limit=100");
        Assert.DoesNotContain(list.GetProperty("items").EnumerateArray(), c => c.GetProperty("id").GetString() == id);

        // A's candidate is unchanged.
        using var aHttp = a.Client();
        var mine = await aHttp.GetFromJsonAsync<JsonElement>($"/api/candidates/{id}");
        Assert.Equal("Only for A", mine.GetProperty("name").GetString());
        Assert.Equal("APPLIED", mine.GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_event_stream_is_the_callers_tenant_whatever_the_path_or_query_names()
    {
        var a = await host.NewTenantAsync();
        var b = await host.NewTenantAsync();
        using var bHttp = b.Client();

        // B asks for A's stream by path and by query; it gets its own.
        await using var watch = await SseReader.OpenAsync(bHttp, $"/api/events/tenant-{a.Tenant}/candidates?tenant={a.Tenant}");
        Assert.Equal(200, watch.StatusCode);
        var aCandidate = (await a.CreateCandidateAsync("A's secret")).GetProperty("id").GetString()!;
        Assert.Equal(200, (await a.TransitionAsync(aCandidate, "screen", "APPLIED")).Status);
        var bCandidate = (await b.CreateCandidateAsync("B's marker")).GetProperty("id").GetString()!;

        var frames = await watch.ReadUntilAsync((_, data) => data.Contains(bCandidate, StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(frames, f => f.Data.Contains(aCandidate, StringComparison.Ordinal) || f.Data.Contains("A's secret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_event_stream_refuses_a_request_without_a_token()
    {
        using var http = host.Client();
        using var response = await http.GetAsync($"/api/events?tenant={Guid.NewGuid()}");
        Assert.Equal(401, (int)response.StatusCode);
    }
}
