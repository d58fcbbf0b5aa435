using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Hardening.Samples.Tests;

/// <summary>
/// The sample host as `./build.sh sample` runs it: its own database on the harness's PostgreSQL, migrated as the owner
/// by `dll migrate`, then the host as the application role <c>ats_app</c>, on the harness's Redis, on a free port.
/// </summary>
public sealed class AtsHost : IAsyncLifetime
{
    public static string Bin => Path.Combine(RepoPaths.Root, "samples", "Hardening.Samples.Ats", "bin", RepoPaths.Configuration, "net10.0");

    public static string Dll => Path.Combine(Bin, "Hardening.Samples.Ats.dll");

    private readonly StringBuilder _log = new();
    private Process? _process;
    private PgBouncerServer? _pgBouncer;

    /// <summary>Settings that override <see cref="Environment"/> for this host (e.g. <c>Ats__WorkerPollInterval</c>).</summary>
    public IReadOnlyDictionary<string, string?> ExtraEnvironment { get; init; } = new Dictionary<string, string?>();

    /// <summary>When set, the host's application connection goes through PgBouncer in transaction pooling mode (pool of this size).</summary>
    public int? PgBouncerPoolSize { get; init; }

    public PostgresServer Postgres { get; private set; } = null!;

    public string Database { get; private set; } = "";

    public string OwnerConnectionString => Postgres.ForDatabase(Database);

    public Uri BaseAddress { get; private set; } = null!;

    public string Log { get { lock (_log) { return _log.ToString(); } } }

    public async Task InitializeAsync()
    {
        Postgres = await PostgresServer.Shared;
        var redis = await RedisServer.Shared;
        Database = await Postgres.CreateDatabaseAsync("ats");
        var env = Environment(OwnerConnectionString, redis.ConnectionString);
        foreach (var (k, v) in ExtraEnvironment)
        {
            env[k] = v;
        }

        (await ProcessRunner.RunAsync("dotnet", [Dll, "migrate", "--contentRoot", Bin], TimeSpan.FromMinutes(2), environment: env)).EnsureSuccess("sample migrate");
        if (PgBouncerPoolSize is { } pool)
        {
            _pgBouncer = await PgBouncerServer.StartAsync(Postgres, ["ats_app"], pool);
            env["ConnectionStrings__Postgres"] = _pgBouncer.ConnectionString(Database, "ats_app");
        }

        BaseAddress = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        try
        {
            _process = await StartProcessAsync(env, BaseAddress, Append);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException(e.Message + "\n" + Log, e);
        }
    }

    /// <summary>Starts the built host with <paramref name="env"/> on <paramref name="baseAddress"/> and waits until /health/live answers.</summary>
    public static async Task<Process> StartProcessAsync(Dictionary<string, string?> env, Uri baseAddress, Action<string?> log)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Dll, "--contentRoot", Bin, "--urls", baseAddress.ToString().TrimEnd('/') })
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }

        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => log(e.Data);
        process.ErrorDataReceived += (_, e) => log(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                using var r = await http.GetAsync(new Uri("/health/live", UriKind.Relative));
                if (r.IsSuccessStatusCode)
                {
                    return process;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(200);
        }

        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        throw new InvalidOperationException("The sample host did not start.");
    }

    /// <summary>The environment of the host: Development secrets, cheap bcrypt, rate limits out of the tests' way.</summary>
    public static Dictionary<string, string?> Environment(string postgres, string redis) => new()
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Development",
        ["ConnectionStrings__Owner"] = postgres,
        ["ConnectionStrings__Postgres"] = new Npgsql.NpgsqlConnectionStringBuilder(postgres) { Username = "ats_app", Password = null }.ConnectionString,
        ["ConnectionStrings__Redis"] = redis,
        ["Auth__PasswordCost"] = "4",
        ["Ats__AuthRequestsPerMinute"] = "100000",
        ["Auth__LoginThrottle__Ip__Threshold"] = "100000",
        ["Ats__ApiRequestsPerMinute"] = "100000",
        ["Ats__WorkerPollInterval"] = "00:00:00.500",
        ["Ats__MaxResumeBytes"] = "100000",
        ["Ats__MaxResumesPerCandidate"] = "2",
        ["Logging__LogLevel__Default"] = "Warning",
    };

    public HttpClient Client(string? token = null)
    {
        var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return http;
    }

    /// <summary>Registers a new organisation with one recruiter and logs in.</summary>
    public async Task<Session> NewTenantAsync()
    {
        using var http = Client();
        var email = $"r{Guid.NewGuid():N}@ats.test";
        var password = "correct horse battery staple " + Guid.NewGuid();
        using (var reg = await http.PostAsJsonAsync("/api/auth/register", new { organization = "Org " + email, displayName = "Recruiter", email, password }))
        {
            Assert.True(reg.StatusCode == System.Net.HttpStatusCode.Created, await reg.Content.ReadAsStringAsync());
            var created = await reg.Content.ReadFromJsonAsync<JsonElement>();
            var tenant = created.GetProperty("tenantId").GetString()!;
            return await LoginAsync(tenant, email, password);
        }
    }

    public async Task<Session> LoginAsync(string tenant, string email, string password)
    {
        using var http = Client();
        using var login = await http.PostAsJsonAsync("/api/auth/login", new { tenant, email, password });
        Assert.True(login.IsSuccessStatusCode, await login.Content.ReadAsStringAsync());
        var t = await login.Content.ReadFromJsonAsync<JsonElement>();
        return new Session(this, tenant, email, password, t.GetProperty("accessToken").GetString()!, t.GetProperty("refreshToken").GetString()!);
    }

    public async Task<T?> OwnerScalarAsync<T>(string sql) => await Postgres.ScalarAsync<T>(sql, Database);

    public Task OwnerExecuteAsync(string sql) => Postgres.ExecuteAsync(sql, Database);

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        if (_pgBouncer is not null)
        {
            await _pgBouncer.DisposeAsync();
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }
}

/// <summary>A logged-in recruiter of one tenant.</summary>
public sealed record Session(AtsHost Host, string Tenant, string Email, string Password, string AccessToken, string RefreshToken)
{
    public HttpClient Client() => Host.Client(AccessToken);

    public async Task<JsonElement> CreateCandidateAsync(string name, int? expectedSalary = null)
    {
        using var http = Client();
        using var r = await http.PostAsJsonAsync("/api/candidates", new { name, expectedSalary });
        Assert.True(r.StatusCode == System.Net.HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
        return await r.Content.ReadFromJsonAsync<JsonElement>();
    }

    public async Task<(int Status, JsonElement Body)> TransitionAsync(string id, string trigger, string expectedState, string reason = "test")
    {
        using var http = Client();
        using var r = await http.PostAsJsonAsync($"/api/candidates/{id}/transitions", new { trigger, reason, expectedState });
        return ((int)r.StatusCode, await r.Content.ReadFromJsonAsync<JsonElement>());
    }

    public async Task<(int Status, JsonElement Body)> PatchAsync(string id, object body)
    {
        using var http = Client();
        using var r = await http.PatchAsJsonAsync($"/api/candidates/{id}", body);
        return ((int)r.StatusCode, await r.Content.ReadFromJsonAsync<JsonElement>());
    }
}

[CollectionDefinition(nameof(AtsCollection))]
public sealed class AtsCollection : ICollectionFixture<AtsHost>;
