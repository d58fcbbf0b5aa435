using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Hardening.Drills.Faults;

/// <summary>A recruiter of a drill tenant; the access token is replaced when the drill logs in again.</summary>
internal sealed class DrillUser(Guid tenant, string email, string password, string accessToken)
{
    private string _accessToken = accessToken;

    public Guid Tenant { get; } = tenant;

    public string Email { get; } = email;

    public string Password { get; } = password;

    public string AccessToken { get => Volatile.Read(ref _accessToken); set => Volatile.Write(ref _accessToken, value); }
}

/// <summary>
/// The faults drill's HTTP client: every call is recorded as an <see cref="Outcome"/> (kind, start, end, status);
/// a call with no answer within the hang limit is cancelled and recorded as status -1, one with no HTTP answer at
/// all (connection refused or reset) as 0.
/// </summary>
internal sealed class FaultClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly FaultRecorder _recorder;
    private readonly TimeSpan _hangLimit;

    public FaultClient(Uri baseAddress, FaultRecorder recorder, TimeSpan hangLimit)
    {
        _recorder = recorder;
        _hangLimit = hangLimit;
        _http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1000,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(20),
        })
        {
            BaseAddress = baseAddress,
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public FaultRecorder Recorder => _recorder;

    /// <summary>Sends and records; returns the status (0 no answer, -1 hang) and the body (empty unless answered).</summary>
    public async Task<(int Status, string Body)> SendAsync(string kind, HttpMethod method, string path, string? token = null, HttpContent? content = null, string? key = null, string? idempotencyKey = null, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        using var hang = CancellationTokenSource.CreateLinkedTokenSource(ct);
        hang.CancelAfter(_hangLimit);
        var start = _recorder.NowMs;
        int status;
        var body = "";
        try
        {
            using var response = await _http.SendAsync(request, hang.Token);
            body = await response.Content.ReadAsStringAsync(hang.Token);
            status = (int)response.StatusCode;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            status = -1;
        }
        catch (HttpRequestException)
        {
            status = 0;
        }
        catch (IOException)
        {
            status = 0;
        }

        // HAProxy's own refusal (no instance up) is HTML; the sample always answers with a JSON problem.
        _recorder.Add(new Outcome(kind, start, _recorder.NowMs, status, key, status >= 500 && body.StartsWith("<html>", StringComparison.OrdinalIgnoreCase)));
        return (status, body);
    }

    public Task<(int Status, string Body)> PostJsonAsync(string kind, string path, object body, string? token = null, string? key = null, string? idempotencyKey = null, CancellationToken ct = default) =>
        SendAsync(kind, HttpMethod.Post, path, token, new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"), key, idempotencyKey, ct);

    /// <summary>Registers a new organisation and logs in (set-up: retried a few times, fails the drill otherwise).</summary>
    public async Task<DrillUser> NewTenantAsync(string prefix, CancellationToken ct)
    {
        var email = $"{prefix}-{Guid.NewGuid():N}@faults.drill";
        var password = "faults drill password " + Guid.NewGuid();
        var (status, body) = await PostJsonAsync("register", "/api/auth/register", new { organization = "Faults " + prefix, displayName = "Drill", email, password }, ct: ct);
        if (status != 201)
        {
            throw new InvalidOperationException($"register {email}: {status} {body}");
        }

        var tenant = JsonDocument.Parse(body).RootElement.GetProperty("tenantId").GetGuid();
        for (var attempt = 1; ; attempt++)
        {
            var (s, tokens) = await LoginAsync(tenant, email, password, ct);
            if (s == 200)
            {
                return new DrillUser(tenant, email, password, tokens!.Value.Access);
            }

            if (attempt >= 10)
            {
                throw new InvalidOperationException($"login {email}: {s}");
            }

            await Task.Delay(200 * attempt, ct);
        }
    }

    /// <summary>Logs in; on 200 returns the access and refresh tokens.</summary>
    public async Task<(int Status, (string Access, string Refresh)? Tokens)> LoginAsync(Guid tenant, string email, string password, CancellationToken ct)
    {
        var (status, body) = await PostJsonAsync("login", "/api/auth/login", new { tenant, email, password }, ct: ct);
        if (status != 200)
        {
            return (status, null);
        }

        var root = JsonDocument.Parse(body).RootElement;
        return (status, (root.GetProperty("accessToken").GetString()!, root.GetProperty("refreshToken").GetString()!));
    }

    public void Dispose() => _http.Dispose();
}
