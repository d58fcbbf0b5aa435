using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.ServerSentEvents;
using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Hardening.Sse;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hardening.Benchmarks.Sse;

/// <summary>
/// Fan-out over loopback Kestrel: <see cref="Connections"/> SSE connections, <see cref="Events"/> events published at a
/// steady <see cref="EventsPerSecond"/>; every client must receive every event. One invocation = one whole round, so
/// the BenchmarkDotNet time is the round's wall time (bounded below by Events / EventsPerSecond) and the interesting
/// numbers are printed by <c>[GlobalCleanup]</c>: delivered events/s (from the first publish to the last receive) and
/// publish-to-receive latency p50/p99 over all deliveries. Clients run in the same process (2 shared cores here), so
/// the absolute figures are pessimistic; compare the two rows. Peer: a naive <c>TypedResults.ServerSentEvents</c>
/// endpoint over one unbounded channel per connection (no replay, no ids, no heartbeats).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 3, invocationCount: 1)]
public class SseFanOutBenchmarks
{
    private static readonly List<string> Report = [];
    private WebApplication? _app;
    private HttpClient? _http;
    private readonly List<Reader> _readers = [];
    private Func<string, Task> _publish = _ => Task.CompletedTask;
    private string _name = "";

    /// <summary>Concurrent SSE connections.</summary>
    [Params(1000)]
    public int Connections { get; set; }

    /// <summary>Events per round.</summary>
    [Params(100)]
    public int Events { get; set; }

    /// <summary>Publish rate.</summary>
    [Params(20, 100)]
    public int EventsPerSecond { get; set; }

    [GlobalSetup(Target = nameof(NaiveTypedResults))]
    public Task SetupNaive()
    {
        _name = "naive TypedResults.ServerSentEvents";
        var subscribers = new List<Channel<string>>();
        return StartAsync(app =>
        {
            app.MapGet("/events/{stream}", (HttpContext http) =>
            {
                var channel = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
                lock (subscribers)
                {
                    subscribers.Add(channel);
                }

                return TypedResults.ServerSentEvents(Read(channel, http.RequestAborted));
            });
            _publish = data =>
            {
                lock (subscribers)
                {
                    foreach (var s in subscribers)
                    {
                        s.Writer.TryWrite(data);
                    }
                }

                return Task.CompletedTask;
            };
        }, services => { });

        static async IAsyncEnumerable<SseItem<string>> Read(Channel<string> channel, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
        {
            yield return new SseItem<string>("open", "hello"); // so that the response starts before the first event
            await foreach (var data in channel.Reader.ReadAllAsync(ct))
            {
                yield return new SseItem<string>(data, "changed");
            }
        }
    }

    [GlobalSetup(Target = nameof(HardeningSse))]
    public Task SetupHardening()
    {
        _name = "Hardening.Sse (in-memory store)";
        return StartAsync(app =>
        {
            app.MapServerSentEvents("/events/{**stream}", o => o.Authorize = (_, _) => ValueTask.FromResult(SseAccess.Allow));
            var publisher = app.Services.GetRequiredService<SsePublisher>();
            _publish = data => publisher.PublishAsync("bench", "changed", data);
        }, services => services.AddHardeningSse(o => o.RetentionCount = 10_000));
    }

    [Benchmark(Baseline = true)]
    public Task NaiveTypedResults() => RoundAsync();

    [Benchmark]
    public Task HardeningSse() => RoundAsync();

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        foreach (var r in _readers)
        {
            r.Stop();
        }

        _http?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        foreach (var line in Report)
        {
            Console.WriteLine(line);
        }
    }

    private async Task StartAsync(Action<WebApplication> map, Action<IServiceCollection> services)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxConcurrentConnections = null);
        services(builder.Services);
        _app = builder.Build();
        map(_app);
        await _app.StartAsync();
        var url = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            BaseAddress = new Uri(url),
            Timeout = Timeout.InfiniteTimeSpan,
        };
        var opens = new List<Task>();
        for (var i = 0; i < Connections; i++)
        {
            var reader = new Reader();
            _readers.Add(reader);
            opens.Add(reader.OpenAsync(_http, "/events/bench"));
        }

        await Task.WhenAll(opens);
        await Task.Delay(500);
    }

    private async Task RoundAsync()
    {
        foreach (var r in _readers)
        {
            r.Reset(Events);
        }

        var start = Stopwatch.GetTimestamp();
        var interval = TimeSpan.FromSeconds(1.0 / EventsPerSecond);
        for (var i = 0; i < Events; i++)
        {
            var due = start + (long)(i * interval.TotalSeconds * Stopwatch.Frequency);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            await _publish(Stopwatch.GetTimestamp().ToString(CultureInfo.InvariantCulture));
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await Task.WhenAll(_readers.Select(r => r.Done.WaitAsync(timeout.Token)));
        var elapsed = Stopwatch.GetElapsedTime(start, _readers.Max(r => r.LastReceive));
        var lags = _readers.SelectMany(r => r.Lags).Order().ToArray();
        Report.Add(string.Create(CultureInfo.InvariantCulture,
            $"SSE fan-out [{_name}] connections={Connections} events={Events} rate={EventsPerSecond}/s: delivered={lags.Length} in {elapsed.TotalSeconds:F2} s = {lags.Length / elapsed.TotalSeconds:F0} events/s; publish-to-receive p50={Percentile(lags, 0.50):F2} ms p99={Percentile(lags, 0.99):F2} ms max={lags[^1]:F2} ms"));
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    /// <summary>One client connection: counts "changed" events and records their publish-to-receive lag.</summary>
    private sealed class Reader
    {
        private readonly CancellationTokenSource _cts = new();
        private TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private double[] _lags = [];
        private int _count;
        private int _expected;

        public Task Done => _done.Task;

        public long LastReceive { get; private set; }

        public IEnumerable<double> Lags => _lags.Take(_count);

        public void Reset(int expected)
        {
            _lags = new double[expected];
            _count = 0;
            _expected = expected;
            _done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        public async Task OpenAsync(HttpClient http, string path)
        {
            var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, _cts.Token);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new InvalidOperationException($"SSE connect failed: {response.StatusCode}");
            }

            var body = await response.Content.ReadAsStreamAsync(_cts.Token);
            _ = Task.Run(async () =>
            {
                try
                {
                    await foreach (var item in SseParser.Create(body).EnumerateAsync(_cts.Token))
                    {
                        if (item.EventType != "changed" || _count >= _expected)
                        {
                            continue;
                        }

                        var now = Stopwatch.GetTimestamp();
                        _lags[_count++] = Stopwatch.GetElapsedTime(long.Parse(item.Data, CultureInfo.InvariantCulture), now).TotalMilliseconds;
                        LastReceive = now;
                        if (_count == _expected)
                        {
                            _done.TrySetResult();
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                }
                catch (IOException)
                {
                }
            });
        }

        public void Stop() => _cts.Cancel();
    }
}
