using System.Net.Http.Json;
using System.Text.Json;

namespace Hardening.Samples.Tests;

/// <summary>Login, refresh (single use; reuse revokes the family), password change, operator-only endpoints.</summary>
[Collection(nameof(AtsCollection))]
public sealed class AuthTests(AtsHost host)
{
    [Fact]
    public async Task Reusing_a_refresh_token_is_401_and_ends_every_session_of_its_family()
    {
        var s = await host.NewTenantAsync();
        using var http = host.Client();
        using var first = await http.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = s.RefreshToken });
        Assert.Equal(200, (int)first.StatusCode);
        var rotated = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("refreshToken").GetString();

        using var reuse = await http.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = s.RefreshToken });
        Assert.Equal(401, (int)reuse.StatusCode);
        var problem = await reuse.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("refresh_reused", problem.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));

        // The rotated token belonged to the same family: it is dead too.
        using var after = await http.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = rotated });
        Assert.Equal(401, (int)after.StatusCode);
        Assert.Equal("family_revoked", (await after.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        var revoked = await host.OwnerScalarAsync<long>($"SELECT count(*) FROM token_families WHERE tenant_id = '{s.Tenant}' AND revoked_reason = 'refresh_reuse'");
        Assert.Equal(1, revoked);
    }

    [Fact]
    public async Task Unknown_tenant_unknown_account_and_wrong_password_answer_alike()
    {
        var s = await host.NewTenantAsync();
        using var http = host.Client();
        var answers = new List<string>();
        foreach (var body in new object[]
        {
            new { tenant = Guid.NewGuid().ToString(), email = s.Email, password = s.Password },
            new { tenant = s.Tenant, email = "nobody-" + s.Email, password = s.Password },
            new { tenant = s.Tenant, email = s.Email, password = s.Password + "x" },
        })
        {
            using var r = await http.PostAsJsonAsync("/api/auth/login", body);
            Assert.Equal(401, (int)r.StatusCode);
            answers.Add((await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!);
        }

        Assert.Single(answers.Distinct());
    }

    [Fact]
    public async Task Repeated_wrong_passwords_are_throttled_with_Retry_After()
    {
        var s = await host.NewTenantAsync();
        using var http = host.Client();
        HttpResponseMessage? last = null;
        for (var i = 0; i < 8; i++)
        {
            last?.Dispose();
            last = await http.PostAsJsonAsync("/api/auth/login", new { tenant = s.Tenant, email = s.Email, password = "wrong password " + i });
        }

        Assert.Equal(429, (int)last!.StatusCode);
        Assert.True(last.Headers.RetryAfter is not null, "429 without Retry-After");
        last.Dispose();
    }

    [Fact]
    public async Task Password_change_refuses_a_recent_password_and_accepts_a_new_one()
    {
        var s = await host.NewTenantAsync();
        using var http = s.Client();
        using var same = await http.PostAsJsonAsync("/api/auth/password", new { currentPassword = s.Password, newPassword = s.Password });
        Assert.Equal(400, (int)same.StatusCode);
        Assert.Contains("newPassword", await same.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var next = "a brand new passphrase " + Guid.NewGuid();
        using var changed = await http.PostAsJsonAsync("/api/auth/password", new { currentPassword = s.Password, newPassword = next });
        Assert.Equal(204, (int)changed.StatusCode);
        await host.LoginAsync(s.Tenant, s.Email, next);
    }

    [Fact]
    public async Task Metrics_and_readiness_detail_are_for_operators_only_and_public_readiness_has_no_detail()
    {
        var recruiter = await host.NewTenantAsync();
        using var anonymous = host.Client();
        using var asRecruiter = recruiter.Client();
        Assert.Equal(401, (int)(await anonymous.GetAsync("/metrics")).StatusCode);
        Assert.Equal(403, (int)(await asRecruiter.GetAsync("/metrics")).StatusCode);
        Assert.Equal(403, (int)(await asRecruiter.GetAsync("/health/detail/ready")).StatusCode);
        Assert.Equal(403, (int)(await asRecruiter.GetAsync("/diagnostics")).StatusCode);
        var ready = await anonymous.GetFromJsonAsync<JsonElement>("/health/ready");
        Assert.Equal(["status"], ready.EnumerateObject().Select(p => p.Name));

        var demo = Array.Find(DemoLogins, _ => true);
        var operatorSession = await host.LoginAsync(demo.Tenant, demo.Email, demo.Password);
        using var asOperator = operatorSession.Client();
        Assert.Equal(200, (int)(await asOperator.GetAsync("/metrics")).StatusCode);
        var detail = await asOperator.GetFromJsonAsync<JsonElement>("/health/detail/ready");
        // The harness's redis-server runs without AOF (Degraded by design of the Redis check); the rest must be Healthy.
        var checks = detail.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("status").GetString());
        Assert.Equal("Healthy", checks["hardening-rls"]);
        Assert.Equal("Healthy", checks["postgresql"]);
        Assert.NotEqual("Unhealthy", checks["hardening-auth-replay-store"]);
        Assert.NotEqual("Unhealthy", checks["hardening-sse-store"]);
    }

    internal static readonly (string Tenant, string Email, string Password)[] DemoLogins =
    [
        ("11111111-1111-4111-8111-111111111111", "alice@acme.example", "sample-password-acme"),
        ("22222222-2222-4222-8222-222222222222", "bob@globex.example", "sample-password-globex"),
    ];
}
