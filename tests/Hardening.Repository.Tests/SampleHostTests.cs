using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Hardening.Repository.Tests;

/// <summary>Runs alone: it builds and starts the sample host, a PostgreSQL and a redis-server, which would slow the other tests.</summary>
[CollectionDefinition(nameof(SampleHostCollection), DisableParallelization = true)]
public sealed class SampleHostCollection;

/// <summary>
/// The README's command for the sample host, <c>./build.sh sample</c>: it starts its own PostgreSQL and Redis, the host
/// becomes ready with every check healthy, serves a pass through the packages, and a TERM (what a supervisor or <c>kill</c> sends) stops the host and both
/// servers and removes their data at once.
/// </summary>
[Collection(nameof(SampleHostCollection))]
public sealed partial class SampleHostTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Sample_command_starts_a_ready_host_and_TERM_leaves_nothing_running()
    {
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        var log = new StringBuilder();
        var psi = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
            Environment = { ["HARDENING_SAMPLE_URL"] = url },
        };
        psi.ArgumentList.Add(Path.Combine(RepoPaths.Root, "build.sh"));
        psi.ArgumentList.Add("sample");
        psi.Environment.Remove("HARDENING_PG");
        psi.Environment.Remove("HARDENING_REDIS");

        using var script = Process.Start(psi)!;
        script.OutputDataReceived += (_, e) => Append(log, e.Data);
        script.ErrorDataReceived += (_, e) => Append(log, e.Data);
        script.BeginOutputReadLine();
        script.BeginErrorReadLine();
        string? dataDir = null;
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var ready = await WaitForReadyAsync(http, url, script, TimeSpan.FromMinutes(4));
            Assert.True(ready is not null, "The sample host did not answer /health/ready with 200 within 4 minutes.\n" + Snapshot(log));
            using (var doc = JsonDocument.Parse(ready))
            {
                // The public readiness answer is a status and nothing else; the detail is for operators.
                Assert.Equal("Healthy", doc.RootElement.GetProperty("status").GetString());
                Assert.Single(doc.RootElement.EnumerateObject());
            }

            Assert.Matches(@"sample: ATS host listening on http://127\.0\.0\.1:\d+ \(pid \d+", Snapshot(log));
            await ExerciseAsync(http, url);

            var text = Snapshot(log);
            var pg = PostgresLine().Match(text);
            var redis = RedisLine().Match(text);
            Assert.True(pg.Success && redis.Success, "build.sh sample did not print the PostgreSQL and Redis lines.\n" + text);
            dataDir = pg.Groups["dir"].Value;
            var pgPort = int.Parse(pg.Groups["port"].Value, CultureInfo.InvariantCulture);
            var redisPort = int.Parse(redis.Groups["port"].Value, CultureInfo.InvariantCulture);
            var hostPort = new Uri(url).Port;
            Assert.True(FreePort.IsListening(pgPort) && FreePort.IsListening(redisPort) && FreePort.IsListening(hostPort));

            (await ProcessRunner.RunAsync("kill", ["-TERM", script.Id.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10))).EnsureSuccess("kill -TERM");
            using (var exited = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            {
                try
                {
                    await script.WaitForExitAsync(exited.Token);
                }
                catch (OperationCanceledException)
                {
                    Assert.Fail("build.sh sample was still running 30 s after TERM.\n" + Snapshot(log));
                }
            }

            output.WriteLine(Snapshot(log));
            Assert.Equal(143, script.ExitCode);
            Assert.False(FreePort.IsListening(hostPort), "The sample host still listens after TERM.");
            Assert.False(FreePort.IsListening(redisPort), "The sample's redis-server still listens after TERM.");
            Assert.False(FreePort.IsListening(pgPort), "The sample's PostgreSQL still listens after TERM.");
            Assert.False(Directory.Exists(dataDir), $"The sample's data directory {dataDir} is still there after TERM.");
        }
        finally
        {
            if (!script.HasExited)
            {
                // A failed assertion left the script running: TERM first, so its own cleanup stops PostgreSQL and
                // Redis and removes the data directory (a kill would skip its trap); kill only if that hangs.
                await ProcessRunner.RunAsync("kill", ["-TERM", script.Id.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10));
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                try
                {
                    await script.WaitForExitAsync(grace.Token);
                }
                catch (OperationCanceledException)
                {
                    script.Kill(entireProcessTree: true);
                }
            }

            // PostgreSQL runs detached from the script (pg_ctl); stop it if the script could not.
            if (dataDir is not null && Directory.Exists(Path.Combine(dataDir, "pg")))
            {
                await ProcessRunner.RunAsync("runuser", ["-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "-D", Path.Combine(dataDir, "pg"), "-m", "immediate", "stop"], TimeSpan.FromSeconds(30));
                Directory.Delete(dataDir, recursive: true);
            }
        }
    }

    /// <summary>One pass through the sample as its printed curl lines do: a demo login, a candidate, a transition, the operator's views.</summary>
    private static async Task ExerciseAsync(HttpClient http, string url)
    {
        using var login = await http.PostAsJsonAsync(new Uri(url + "/api/auth/login"), new { tenant = "11111111-1111-4111-8111-111111111111", email = "alice@acme.example", password = "sample-password-acme" });
        Assert.Equal(200, (int)login.StatusCode);
        var token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString();
        using var authed = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        authed.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var created = await authed.PostAsJsonAsync(new Uri(url + "/api/candidates"), new { name = "Ada Lovelace" });
        Assert.Equal(201, (int)created.StatusCode);
        using var located = await authed.GetAsync(new Uri(new Uri(url), created.Headers.Location!));
        Assert.Equal(200, (int)located.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        Assert.Equal(200, await PostStatusAsync(authed, url + $"/api/candidates/{id}/transitions", new { trigger = "screen", reason = "demo", expectedState = "APPLIED" }));
        Assert.Equal(401, await PostStatusAsync(http, url + "/api/candidates", new { name = "anonymous" }));

        using var detail = await authed.GetAsync(new Uri(url + "/health/detail/ready"));
        Assert.Equal(200, (int)detail.StatusCode);
        var metrics = await authed.GetStringAsync(new Uri(url + "/metrics"));
        Assert.Matches(@"(?m)^hardening_fsm_transitions_total\{[^}]*outcome=""accepted""[^}]*\} 1$", metrics);
        using var anonymousMetrics = await http.GetAsync(new Uri(url + "/metrics"));
        Assert.Equal(401, (int)anonymousMetrics.StatusCode);
    }

    private static async Task<int> PostStatusAsync(HttpClient http, string url, object body)
    {
        using var response = await http.PostAsJsonAsync(new Uri(url), body);
        return (int)response.StatusCode;
    }

    private static async Task<string?> WaitForReadyAsync(HttpClient http, string url, Process script, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline && !script.HasExited)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(url + "/health/ready"));
                if ((int)response.StatusCode == 200)
                {
                    return await response.Content.ReadAsStringAsync();
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Listening but slow to answer while it starts.
            }

            await Task.Delay(500);
        }

        return null;
    }

    private static void Append(StringBuilder log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.AppendLine(line);
        }
    }

    private static string Snapshot(StringBuilder log)
    {
        lock (log)
        {
            return log.ToString();
        }
    }

    [GeneratedRegex(@"sample: PostgreSQL on 127\.0\.0\.1:(?<port>\d+) \(data in (?<dir>\S+), removed on exit\)")]
    private static partial Regex PostgresLine();

    [GeneratedRegex(@"sample: Redis on 127\.0\.0\.1:(?<port>\d+)")]
    private static partial Regex RedisLine();
}
