using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Hardening.Repository.Tests;

/// <summary>
/// <c>./build.sh sample</c> leaves nothing behind on the exit paths a user meets: the port is already taken, or the
/// host dies (a crash, <c>kill -9</c>). The script then exits non-zero, and its PostgreSQL, redis-server and data
/// directory are gone.
/// </summary>
[Collection(nameof(SampleHostCollection))]
public sealed partial class SampleLifecycleTests
{
    [Fact]
    public async Task Port_already_taken_exits_non_zero_and_starts_nothing()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var result = await ProcessRunner.RunAsync("bash", [Path.Combine(RepoPaths.Root, "build.sh"), "sample"], TimeSpan.FromMinutes(5), RepoPaths.Root,
            new Dictionary<string, string?> { ["HARDENING_SAMPLE_URL"] = $"http://127.0.0.1:{port}", ["HARDENING_PG"] = null, ["HARDENING_REDIS"] = null });

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"port {port} is already taken", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotMatch(PostgresLine(), result.StdOut);
    }

    [Fact]
    public async Task Host_killed_exits_non_zero_and_stops_both_servers_and_removes_the_data()
    {
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        var log = new StringBuilder();
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = RepoPaths.Root };
        psi.ArgumentList.Add(Path.Combine(RepoPaths.Root, "build.sh"));
        psi.ArgumentList.Add("sample");
        psi.Environment["HARDENING_SAMPLE_URL"] = url;
        psi.Environment.Remove("HARDENING_PG");
        psi.Environment.Remove("HARDENING_REDIS");
        using var script = Process.Start(psi)!;
        script.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        script.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        script.BeginOutputReadLine();
        script.BeginErrorReadLine();
        string Text() { lock (log) { return log.ToString(); } }

        string? dataDir = null;
        try
        {
            Match listening;
            var deadline = DateTime.UtcNow.AddMinutes(4);
            while (!(listening = HostLine().Match(Text())).Success && !script.HasExited && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }

            Assert.True(listening.Success, "build.sh sample never said it was listening.\n" + Text());
            var pg = PostgresLine().Match(Text());
            var redis = RedisLine().Match(Text());
            Assert.True(pg.Success && redis.Success, Text());
            dataDir = pg.Groups["dir"].Value;
            var pgPort = int.Parse(pg.Groups["port"].Value, CultureInfo.InvariantCulture);
            var redisPort = int.Parse(redis.Groups["port"].Value, CultureInfo.InvariantCulture);
            Assert.True(FreePort.IsListening(new Uri(url).Port), "'listening' was printed before the host listened.");

            // The host dies on its own (as in a crash): SIGKILL, so it runs no shutdown code.
            (await ProcessRunner.RunAsync("kill", ["-KILL", listening.Groups["pid"].Value], TimeSpan.FromSeconds(10))).EnsureSuccess("kill -KILL");
            using (var exited = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            {
                await script.WaitForExitAsync(exited.Token);
            }

            Assert.NotEqual(0, script.ExitCode);
            Assert.False(FreePort.IsListening(redisPort), "redis-server still listens after the host died.\n" + Text());
            Assert.False(FreePort.IsListening(pgPort), "PostgreSQL still listens after the host died.\n" + Text());
            Assert.False(Directory.Exists(dataDir), $"{dataDir} is still there after the host died.");
        }
        finally
        {
            if (!script.HasExited)
            {
                script.Kill(entireProcessTree: true);
            }

            if (dataDir is not null && Directory.Exists(Path.Combine(dataDir, "pg")))
            {
                await ProcessRunner.RunAsync("runuser", ["-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "-D", Path.Combine(dataDir, "pg"), "-m", "immediate", "stop"], TimeSpan.FromSeconds(30));
                Directory.Delete(dataDir, recursive: true);
            }
        }
    }

    [GeneratedRegex(@"sample: ATS host listening on \S+ \(pid (?<pid>\d+)")]
    private static partial Regex HostLine();

    [GeneratedRegex(@"sample: PostgreSQL on 127\.0\.0\.1:(?<port>\d+) \(data in (?<dir>\S+), removed on exit\)")]
    private static partial Regex PostgresLine();

    [GeneratedRegex(@"sample: Redis on 127\.0\.0\.1:(?<port>\d+)")]
    private static partial Regex RedisLine();
}
