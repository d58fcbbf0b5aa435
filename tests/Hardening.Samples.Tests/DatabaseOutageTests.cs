using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Hardening.Samples.Tests;

/// <summary>
/// PostgreSQL unreachable (the faults drill of issue 19 found a 500 here): requests that need the database are refused
/// with 503, <c>Retry-After</c> and a problem naming the cause, never a 500; the host keeps running and Redis-only parts work.
/// </summary>
public sealed class DatabaseOutageTests : IAsyncLifetime
{
    private readonly StringBuilder _log = new();
    private Process? _process;
    private Uri _base = null!;

    public async Task InitializeAsync()
    {
        var postgres = await PostgresServer.Shared;
        var redis = await RedisServer.Shared;
        // A port nothing listens on: every connection attempt is refused, as while PostgreSQL is stopped.
        var down = new Npgsql.NpgsqlConnectionStringBuilder(postgres.ForDatabase("ats_down")) { Port = FreePort.Next() }.ConnectionString;
        var env = AtsHost.Environment(down, redis.ConnectionString);
        _base = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        _process = await AtsHost.StartProcessAsync(env, _base, line => { lock (_log) { _log.AppendLine(line); } });
    }

    [Theory]
    [InlineData("/api/auth/login", """{"tenant":"11111111-1111-4111-8111-111111111111","email":"alice@acme.example","password":"sample-password-acme"}""")]
    [InlineData("/api/auth/register", """{"organization":"Outage Inc","displayName":"Olga","email":"olga@outage.example","password":"a long enough password"}""")]
    public async Task A_request_that_needs_the_database_gets_503_with_Retry_After(string path, string body)
    {
        using var http = new HttpClient { BaseAddress = _base, Timeout = TimeSpan.FromSeconds(60) };
        using var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(503 == (int)response.StatusCode, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("2", response.Headers.RetryAfter?.ToString());
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal(503, problem.GetProperty("status").GetInt32());
        Assert.Contains("database is unavailable", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.False(problem.TryGetProperty("exception", out _));
    }

    [Fact]
    public async Task The_host_stays_up_and_validation_needs_no_database()
    {
        using var http = new HttpClient { BaseAddress = _base, Timeout = TimeSpan.FromSeconds(60) };
        using var bad = await http.PostAsJsonAsync("/api/auth/login", new { tenant = "not-a-uuid", email = "a@b.c", password = "x" });
        Assert.Equal(400, (int)bad.StatusCode);
        using var live = await http.GetAsync(new Uri("/health/live", UriKind.Relative));
        Assert.Equal(200, (int)live.StatusCode);
        using var ready = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));
        Assert.Equal(503, (int)ready.StatusCode);
    }

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
    }
}
