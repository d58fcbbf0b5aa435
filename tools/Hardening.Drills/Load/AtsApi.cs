using System.Diagnostics;
using System.Globalization;
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
        for (var attempt = 1; ; attempt++)
        {
            // The same Idempotency-Key on every attempt: a retried registration finds the tenant the first one made.
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/register") { Content = JsonContent.Create(new { organization = "Drill " + email, displayName = "Drill", email, password }) };
            request.Headers.Add("Idempotency-Key", "register-" + email);
            using var r = await Http.SendAsync(request, ct);
            var body = await r.Content.ReadAsStringAsync(ct);
            if ((int)r.StatusCode == 201)
            {
                return JsonDocument.Parse(body).RootElement.GetProperty("tenantId").GetGuid();
            }

            await RetryOrThrowAsync($"register {email}", attempt, (int)r.StatusCode, body, ct);
        }
    }

    /// <summary>
    /// Set-up calls (register, login) ride out a busy machine: a 429 or 503 is retried with backoff for about a minute;
    /// anything else, or longer, is a failed set-up.
    /// </summary>
    private static async Task RetryOrThrowAsync(string what, int attempt, int status, string body, CancellationToken ct)
    {
        if (attempt >= 12 || status is not (429 or 503))
        {
            throw new InvalidOperationException($"{what}: {status} {body}");
        }

        await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(10_000, 250 * (1 << Math.Min(attempt, 6)))), ct);
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

            await RetryOrThrowAsync($"login {email}", attempt, (int)r.StatusCode, body, ct);
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

    /// <summary>
    /// Sends <paramref name="request"/> (and disposes it), records its latency and outcome under
    /// <paramref name="endpoint"/>; returns the status and JSON body, or a null status when the request failed without
    /// a response (connection refused or reset, timeout).
    /// </summary>
    public async Task<(int? Status, JsonElement Body)> SendAsync(string endpoint, HttpRequestMessage request, RequestStats stats, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            using (request)
            using (var response = await Http.SendAsync(request, ct))
            {
                var text = await response.Content.ReadAsStringAsync(ct);
                var status = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
                stats.Record(endpoint, status, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                stats.Sample(endpoint, status, text);
                var body = text.Length > 0 && text[0] is '{' or '[' ? JsonDocument.Parse(text).RootElement.Clone() : default;
                return ((int)response.StatusCode, body);
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException && !ct.IsCancellationRequested)
        {
            stats.Record(endpoint, e.GetType().Name, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            stats.Sample(endpoint, e.GetType().Name, e.Message);
            return (null, default);
        }
    }

    public void Dispose() => Http.Dispose();
}
