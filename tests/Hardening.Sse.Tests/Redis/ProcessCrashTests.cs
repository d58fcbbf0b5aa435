using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using Hardening.Sse.Tests.Endpoints;
using Hardening.Sse.Tests.Support;

namespace Hardening.Sse.Tests.Redis;

/// <summary>
/// An app instance started as a separate process (tests/Hardening.Sse.TestHost) is killed with SIGKILL while it
/// streams and while publishes go through it; a client that reconnects to a new process with its Last-Event-ID gets
/// every later event exactly once, and every event the dead process acknowledged is among them.
/// </summary>
public sealed class ProcessCrashTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    [Fact]
    public async Task Client_reconnecting_to_a_new_process_after_SIGKILL_gets_every_later_event_once()
    {
        var prefix = $"crash{Guid.NewGuid():N}:";
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var first = await TestHostProcess.StartAsync(redis.ConnectionString, prefix);
        TestHostProcess? second = null;
        try
        {
            await using var c1 = await SseConnection.OpenAsync(http, first.Url + "/events/orders", null);
            await c1.WaitUntilAsync(_ => c1.LastEventId is not null);

            // Publish through the doomed process; remember what it acknowledged.
            var acknowledged = new List<string>();
            for (var i = 0; i < 30; i++)
            {
                using var ack = await http.PostAsync(first.Url + "/publish/orders", new StringContent($"before-{i}"));
                acknowledged.Add(await ack.EnsureSuccessStatusCode().Content.ReadAsStringAsync());
            }

            await c1.WaitUntilAsync(items => items.Count >= 10);

            // Kill it while publishes are in flight through it.
            var inFlight = Enumerable.Range(0, 10).Select(async i =>
            {
                try
                {
                    using var r = await http.PostAsync(first.Url + "/publish/orders", new StringContent($"inflight-{i}"));
                    return r.IsSuccessStatusCode ? await r.Content.ReadAsStringAsync() : null;
                }
                catch (HttpRequestException)
                {
                    return null;
                }
            }).ToArray();
            first.Kill();
            acknowledged.AddRange((await Task.WhenAll(inFlight)).OfType<string>());
            await c1.Completion.WaitAsync(TimeSpan.FromSeconds(20));
            var lastId = c1.LastEventId;
            var beforeCrash = c1.Items;

            // Life goes on: another instance keeps publishing while no process serves the client.
            await using (var other = await SseTestHost.StartOnRedisAsync(redis.Multiplexer, o => o.RedisKeyPrefix = prefix))
            {
                for (var i = 0; i < 20; i++)
                {
                    acknowledged.Add((await other.Publisher.PublishAsync("orders", "changed", $"during-{i}")).Id.ToString());
                }
            }

            second = await TestHostProcess.StartAsync(redis.ConnectionString, prefix);
            await using var c2 = await SseConnection.OpenAsync(http, second.Url + "/events/orders", lastId);
            for (var i = 0; i < 10; i++)
            {
                using var ack = await http.PostAsync(second.Url + "/publish/orders", new StringContent($"after-{i}"));
                acknowledged.Add(await ack.EnsureSuccessStatusCode().Content.ReadAsStringAsync());
            }

            var lastAck = acknowledged.Select(SseEndpointTests.SseEventIdOf).MaxBy(id => id.Sequence);
            var afterCrash = await c2.WaitUntilAsync(items => items.Count > 0 && items[^1].EventId == lastAck.ToString());

            var all = beforeCrash.Concat(afterCrash).Select(i => SseEndpointTests.SseEventIdOf(i.EventId)).ToList();
            Assert.Single(all.Select(i => i.Epoch).Distinct());
            Assert.Equal(Enumerable.Range(1, (int)lastAck.Sequence).Select(n => (long)n), all.Select(i => i.Sequence)); // once each, in order
            Assert.Empty(acknowledged.Except(all.Select(i => i.ToString()))); // nothing acknowledged was lost
            Assert.DoesNotContain(afterCrash, i => i.EventType == "reset");
        }
        finally
        {
            first.Kill();
            second?.Kill();
        }
    }

    /// <summary>The test host as a child process.</summary>
    private sealed class TestHostProcess
    {
        private readonly Process _process;

        private TestHostProcess(Process process, string url)
        {
            _process = process;
            Url = url;
        }

        public string Url { get; }

        public static async Task<TestHostProcess> StartAsync(string redis, string prefix)
        {
            var dll = Path.Combine(RepoPaths.Root, "tests", "Hardening.Sse.TestHost", "bin", RepoPaths.Configuration, "net10.0", "Hardening.Sse.TestHost.dll");
            Assert.True(File.Exists(dll), $"{dll} is missing; build tests/Hardening.Sse.Tests (it builds the test host).");
            var port = FreePort.Next();
            var url = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}");
            var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { dll, "--urls", url, "--Redis", redis, "--Prefix", prefix })
            {
                psi.ArgumentList.Add(a);
            }

            var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start the SSE test host.");
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var host = new TestHostProcess(process, url);
            using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            for (var i = 0; i < 300; i++)
            {
                Assert.False(process.HasExited, $"The SSE test host exited with code {(process.HasExited ? process.ExitCode : 0)}.");
                try
                {
                    using var r = await probe.GetAsync(url + "/ready");
                    if (r.IsSuccessStatusCode)
                    {
                        return host;
                    }
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException)
                {
                }

                await Task.Delay(100);
            }

            host.Kill();
            throw new TimeoutException("The SSE test host did not become ready within 30 s.");
        }

        /// <summary>SIGKILL: no shutdown hooks, no flush, like a crash.</summary>
        public void Kill()
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill();
                    _process.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
            }
        }
    }
}
