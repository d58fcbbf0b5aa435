using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Hardening.Testing;

namespace Hardening.Drills.Backup;

/// <summary>
/// The write load of the backup drill: one sample ATS host (as <c>./build.sh sample</c> runs it: <c>dll migrate</c> as
/// the owner, then the host as <c>ats_app</c> on its own Redis), several registered tenants, and writers that create
/// candidates over HTTP and move each through the pipeline. Every write is journaled with the client clock when it
/// was sent and when it was acknowledged, which is what the recovery checks compare against.
/// </summary>
internal sealed class SampleWriters : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    // The happy path; some candidates are rejected or withdraw on the way (every 5th / 7th).
    private static readonly (string Trigger, string To)[] HappyPath =
        [("screen", "SCREENING"), ("interview", "INTERVIEW"), ("make_offer", "OFFER"), ("hire", "JOINED"), ("leave", "LEFT_COMPANY")];

    private readonly StringBuilder _log = new();
    private readonly List<Task> _writers = [];
    private readonly List<string> _sessions = [];   // an access token per tenant
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<int, int> _errors = [];
    private Process? _host;
    private HttpClient? _http;

    private SampleWriters(string database) => Database = database;

    /// <summary>The sample's database on the source cluster.</summary>
    public string Database { get; }

    /// <summary>Every acknowledged or attempted write, by candidate.</summary>
    public WriteJournal Journal { get; } = new();

    /// <summary>Tenant ids registered for the drill.</summary>
    public IReadOnlyList<Guid> Tenants { get; private set; } = [];

    /// <summary>Failed requests by HTTP status (0 = no response).</summary>
    public IReadOnlyDictionary<int, int> Errors { get { lock (_errors) { return new Dictionary<int, int>(_errors); } } }

    /// <summary>Migrates a new database on <paramref name="postgres"/>, starts the host on <paramref name="redis"/>, registers <paramref name="tenants"/> tenants.</summary>
    public static async Task<SampleWriters> StartAsync(PostgresServer postgres, RedisServer redis, int tenants, CancellationToken cancellationToken)
    {
        var database = await postgres.CreateDatabaseAsync("ats");
        var writers = new SampleWriters(database);
        try
        {
            await writers.StartHostAsync(postgres.ForDatabase(database), redis.ConnectionString, cancellationToken);
            await writers.RegisterTenantsAsync(tenants, cancellationToken);
            return writers;
        }
        catch
        {
            await writers.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts <paramref name="count"/> writers spread over the tenants; they run until <see cref="StopAsync"/>.</summary>
    public void StartWriters(int count)
    {
        for (var i = 0; i < count; i++)
        {
            var writer = i;
            _writers.Add(Task.Run(() => WriteLoopAsync(writer, _sessions[writer % _sessions.Count], _stop.Token)));
        }
    }

    /// <summary>Stops the writers and waits for the writes in flight.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_writers);
    }

    /// <summary>The host's output (for a failure report).</summary>
    public string Log { get { lock (_log) { return _log.ToString(); } } }

    private async Task StartHostAsync(string owner, string redis, CancellationToken cancellationToken)
    {
        var bin = Path.Combine(RepoPaths.Root, "samples", "Hardening.Samples.Ats", "bin", RepoPaths.Configuration, "net10.0");
        var dll = Path.Combine(bin, "Hardening.Samples.Ats.dll");
        if (!File.Exists(dll)) throw new InvalidOperationException($"The sample is not built ({dll} is missing): dotnet build samples/Hardening.Samples.Ats -c {RepoPaths.Configuration}.");
        var environment = SampleEnvironment.For(new Npgsql.NpgsqlConnectionStringBuilder(owner) { Username = "ats_app", Password = null }.ConnectionString, redis);
        environment["ConnectionStrings__Owner"] = owner;
        environment["Auth__AccessTokenLifetime"] = "02:00:00";
        (await ProcessRunner.RunAsync("dotnet", [dll, "migrate", "--contentRoot", bin], TimeSpan.FromMinutes(2), environment: environment)).EnsureSuccess("sample migrate");

        var address = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { dll, "--contentRoot", bin, "--urls", address.ToString().TrimEnd('/') }) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        _host = Process.Start(psi) ?? throw new InvalidOperationException("could not start the sample host");
        _host.OutputDataReceived += (_, e) => Append(e.Data);
        _host.ErrorDataReceived += (_, e) => Append(e.Data);
        _host.BeginOutputReadLine();
        _host.BeginErrorReadLine();
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromMinutes(2) && !_host.HasExited)
        {
            try
            {
                using var r = await _http.GetAsync(new Uri("/health/live", UriKind.Relative), cancellationToken);
                if (r.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(200, cancellationToken);
        }

        throw new InvalidOperationException("The sample host did not start.\n" + Log);
    }

    private async Task RegisterTenantsAsync(int count, CancellationToken cancellationToken)
    {
        var tenants = new List<Guid>();
        for (var i = 0; i < count; i++)
        {
            var email = $"drill{i}-{Guid.NewGuid():N}@backup.drill";
            var password = "backup drill password " + Guid.NewGuid();
            using var reg = await _http!.PostAsJsonAsync("/api/auth/register", new { organization = $"Backup drill {i}", displayName = "Recruiter", email, password }, cancellationToken);
            if (reg.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"register: {(int)reg.StatusCode} {await reg.Content.ReadAsStringAsync(cancellationToken)}");
            var tenant = (await reg.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("tenantId").GetString()!;
            using var login = await _http!.PostAsJsonAsync("/api/auth/login", new { tenant, email, password }, cancellationToken);
            if (!login.IsSuccessStatusCode) throw new InvalidOperationException($"login: {(int)login.StatusCode} {await login.Content.ReadAsStringAsync(cancellationToken)}");
            _sessions.Add((await login.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("accessToken").GetString()!);
            tenants.Add(Guid.Parse(tenant));
        }

        Tenants = tenants;
    }

    private async Task WriteLoopAsync(int writer, string token, CancellationToken stop)
    {
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var salary = 40_000 + (writer * 1000) + (n % 1000);
            var (id, ok) = await SendAsync(token, HttpMethod.Post, "/api/candidates", new { name = $"Candidate {writer}-{n}", email = $"c{writer}.{n}@backup.drill", expectedSalary = salary, offerSigned = true }, Guid.Empty, "APPLIED");
            if (!ok) continue;
            var state = "APPLIED";
            // Each candidate goes some way down the path: every 5th is rejected at screening, every 7th withdraws.
            var steps = 1 + (n % HappyPath.Length);
            for (var s = 0; s < steps && !stop.IsCancellationRequested; s++)
            {
                var (trigger, to) = HappyPath[s];
                if (s == 1 && n % 5 == 0) (trigger, to) = ("reject", "REJECTED");
                if (s == 2 && n % 7 == 0) (trigger, to) = ("withdraw", "WITHDRAWN");
                (_, ok) = await SendAsync(token, HttpMethod.Post, $"/api/candidates/{id}/transitions", new { trigger, reason = "backup drill", expectedState = state }, id, to);
                if (!ok || to is "REJECTED" or "WITHDRAWN") break;
                state = to;
            }
        }
    }

    /// <summary>Sends one write; journals it (sent, acknowledged or failed); a failed write leaves the candidate uncertain, so its writer moves on.</summary>
    private async Task<(Guid Id, bool Ok)> SendAsync(string token, HttpMethod method, string path, object body, Guid candidate, string state)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = JsonContent.Create(body, options: Web) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (candidate == Guid.Empty) request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        var sent = DateTime.UtcNow;
        try
        {
            // Not cancelled by the stop signal: a write in flight finishes, so its outcome is known.
            using var response = await _http!.SendAsync(request, CancellationToken.None);
            var acked = DateTime.UtcNow;
            if (!response.IsSuccessStatusCode)
            {
                CountError((int)response.StatusCode);
                if (candidate != Guid.Empty) Journal.Add(candidate, state, sent, DateTime.MaxValue);
                return (candidate, false);
            }

            if (candidate == Guid.Empty)
            {
                candidate = (await response.Content.ReadFromJsonAsync<JsonElement>(Web)).GetProperty("id").GetGuid();
            }

            Journal.Add(candidate, state, sent, acked);
            return (candidate, true);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            CountError(0);
            if (candidate != Guid.Empty) Journal.Add(candidate, state, sent, DateTime.MaxValue);
            return (candidate, false);
        }
    }

    private void CountError(int status)
    {
        lock (_errors) { _errors[status] = _errors.GetValueOrDefault(status) + 1; }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_log) { _log.AppendLine(line); }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await Task.WhenAll(_writers); } catch (OperationCanceledException) { }
        if (_host is { HasExited: false })
        {
            _host.Kill(entireProcessTree: true);
            await _host.WaitForExitAsync();
        }

        _host?.Dispose();
        _http?.Dispose();
        _stop.Dispose();
    }
}

/// <summary>
/// The writes by candidate, in order (one writer owns a candidate, so its writes never overlap): the state each write
/// leads to, when it was sent and when it was acknowledged (<see cref="DateTime.MaxValue"/> = never: failed or no answer).
/// </summary>
internal sealed class WriteJournal
{
    private readonly Dictionary<Guid, List<Write>> _writes = [];

    /// <summary>One write to a candidate.</summary>
    internal readonly record struct Write(string State, DateTime Sent, DateTime Acknowledged);

    /// <summary>Acknowledged writes.</summary>
    public int Acknowledged { get { lock (_writes) { return _writes.Values.Sum(w => w.Count(x => x.Acknowledged != DateTime.MaxValue)); } } }

    /// <summary>Candidates created.</summary>
    public int Candidates { get { lock (_writes) { return _writes.Count; } } }

    /// <summary>Records a write.</summary>
    public void Add(Guid candidate, string state, DateTime sent, DateTime acknowledged)
    {
        lock (_writes)
        {
            if (!_writes.TryGetValue(candidate, out var list)) _writes[candidate] = list = [];
            list.Add(new Write(state, sent, acknowledged));
        }
    }

    /// <summary>
    /// The states a candidate may have in a copy that holds exactly the commits up to a cut between <paramref name="from"/>
    /// and <paramref name="to"/> (null = absent): the state of the last write acknowledged before <paramref name="from"/>,
    /// or that of a write in flight across the cut. A write sent after <paramref name="to"/> cannot be in the copy.
    /// </summary>
    public IReadOnlyDictionary<Guid, HashSet<string?>> AllowedAt(DateTime from, DateTime to)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(from, to);
        var allowed = new Dictionary<Guid, HashSet<string?>>();
        lock (_writes)
        {
            foreach (var (candidate, writes) in _writes)
            {
                string? definite = null;
                var states = new HashSet<string?>();
                foreach (var w in writes)
                {
                    if (w.Acknowledged < from) definite = w.State;
                    else if (w.Sent <= to) states.Add(w.State);   // in flight across the cut (or never answered): either way
                }

                states.Add(definite);
                allowed[candidate] = states;
            }
        }

        return allowed;
    }
}
