using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Hardening.Drills.Load;

/// <summary>A logged-in user of one tenant: the access token for the Authorization header.</summary>
internal sealed record AtsUser(Guid Tenant, string Email, string Password, string AccessToken);

/// <summary>The few calls of the sample's API the drills make, over one shared connection pool.</summary>
internal sealed class AtsApi : IDisposable
{
    public AtsApi(Uri baseAddress, int maxConnections = 2000)
    {
        Http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    /// <summary>The shared client (base address = HAProxy).</summary>
    public HttpClient Http { get; }

    /// <summary>Registers a new organisation with one recruiter; returns its tenant id.</summary>
    public async Task<Guid> RegisterAsync(string email, string password, CancellationToken ct)
    {
        using var r = await Http.PostAsJsonAsync("/api/auth/register", new { organization = "Drill " + email, displayName = "Drill", email, password }, ct);
        var body = await r.Content.ReadAsStringAsync(ct);
        if ((int)r.StatusCode != 201)
        {
            throw new InvalidOperationException($"register {email}: {(int)r.StatusCode} {body}");
        }

        return JsonDocument.Parse(body).RootElement.GetProperty("tenantId").GetGuid();
    }

    /// <summary>Logs in; returns the user with an access token.</summary>
    public async Task<AtsUser> LoginAsync(Guid tenant, string email, string password, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var r = await Http.PostAsJsonAsync("/api/auth/login", new { tenant, email, password }, ct);
            var body = await r.Content.ReadAsStringAsync(ct);
            if (r.IsSuccessStatusCode)
            {
                return new AtsUser(tenant, email, password, JsonDocument.Parse(body).RootElement.GetProperty("accessToken").GetString()!);
            }

            // A 429 or 503 during set-up is retried a few times; anything else is a failed drill set-up.
            if (attempt >= 5 || ((int)r.StatusCode is not (429 or 503)))
            {
                throw new InvalidOperationException($"login {email}: {(int)r.StatusCode} {body}");
            }

            await Task.Delay(200 * attempt, ct);
        }
    }

    /// <summary>Registers a tenant and logs its recruiter in.</summary>
    public async Task<AtsUser> NewTenantAsync(string prefix, CancellationToken ct)
    {
        var email = $"{prefix}-{Guid.NewGuid():N}@drill.test";
        var password = "drill password " + Guid.NewGuid();
        var tenant = await RegisterAsync(email, password, ct);
        return await LoginAsync(tenant, email, password, ct);
    }

    /// <summary>A request with the user's token.</summary>
    public static HttpRequestMessage Request(HttpMethod method, string path, AtsUser user, object? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        if (json is not null)
        {
            request.Content = JsonContent.Create(json);
        }

        return request;
    }

    public void Dispose() => Http.Dispose();
}
