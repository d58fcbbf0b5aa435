using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
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
/// publish-to-receive latency p50/p99 over all deliveries. Clients run in the same process (2 shared cores here) on
/// raw sockets with a minimal parser, so that they take as little of the server's CPU as possible; the absolute
/// figures are still pessimistic; compare the two rows. Peer: a naive <c>TypedResults.ServerSentEvents</c>
/// endpoint over one unbounded channel per connection (no replay, no ids, no heartbeats).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 3, invocationCount: 1)]
public class SseFanOutBenchmarks
{
    private static readonly List<string> Report = [];
    private WebApplication? _app;
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
    [Params(20, 50, 100)]
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
        var opens = new List<Task>();
        for (var i = 0; i < Connections; i++)
        {
            var reader = new Reader();
            _readers.Add(reader);
            opens.Add(reader.OpenAsync(new Uri(url), "/events/bench"));
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

    /// <summary>
    /// One client connection on a raw socket: a minimal HTTP/1.1 chunked decoder and SSE line scanner that counts
    /// "changed" events and records their publish-to-receive lag. Deliberately cheaper than HttpClient + SseParser:
    /// the clients share the server's 2 cores, and the less they take, the more the figures describe the server.
    /// Both endpoints are read by the same client.
    /// </summary>
    private sealed class Reader
    {
        private readonly CancellationTokenSource _cts = new();
        private TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private double[] _lags = [];
        private int _count;
        private int _expected;
        private Socket? _socket;

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

        public async Task OpenAsync(Uri baseAddress, string path)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, baseAddress.Port), _cts.Token);
            _socket = socket;
            var request = Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{baseAddress.Port}\r\nAccept: text/event-stream\r\n\r\n");
            await socket.SendAsync(request, SocketFlags.None, _cts.Token);

            // Headers (small: one read is enough on loopback, but loop until the blank line to be safe).
            var buffer = new byte[16 * 1024];
            var filled = 0;
            int headerEnd;
            while ((headerEnd = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, _cts.Token);
                if (n == 0)
                {
                    throw new InvalidOperationException("SSE connect failed: connection closed before the headers.");
                }

                filled += n;
            }

            if (!buffer.AsSpan(0, filled).StartsWith("HTTP/1.1 200"u8))
            {
                throw new InvalidOperationException("SSE connect failed: " + Encoding.ASCII.GetString(buffer, 0, Math.Min(filled, 40)));
            }

            var leftover = buffer.AsSpan(headerEnd + 4, filled - headerEnd - 4).ToArray();
            _ = Task.Run(() => ReadLoopAsync(socket, buffer, leftover));
        }

        public void Stop()
        {
            _cts.Cancel();
            _socket?.Dispose();
        }

        private async Task ReadLoopAsync(Socket socket, byte[] buffer, byte[] leftover)
        {
            var decoder = new ChunkedSseDecoder(this);
            decoder.Feed(leftover);
            try
            {
                while (true)
                {
                    var n = await socket.ReceiveAsync(buffer, SocketFlags.None, _cts.Token);
                    if (n == 0)
                    {
                        return;
                    }

                    decoder.Feed(buffer.AsSpan(0, n));
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (SocketException)
            {
            }
            catch (ObjectDisposedException)
            {
            }
        }

        private void OnChanged(ReadOnlySpan<byte> data)
        {
            if (_count >= _expected)
            {
                return;
            }

            var now = Stopwatch.GetTimestamp();
            _lags[_count++] = Stopwatch.GetElapsedTime(long.Parse(data, NumberStyles.None, CultureInfo.InvariantCulture), now).TotalMilliseconds;
            LastReceive = now;
            if (_count == _expected)
            {
                _done.TrySetResult();
            }
        }

        /// <summary>HTTP/1.1 chunked transfer decoding, then SSE lines: <c>event:</c> and <c>data:</c>, dispatched on the blank line.</summary>
        private sealed class ChunkedSseDecoder(Reader owner)
        {
            private readonly List<byte> _line = new(128);
            private readonly List<byte> _sizeLine = new(16);
            private long _chunkLeft;
            private int _state; // 0: size line, 1: chunk data, 2: CRLF after the data
            private bool _changed;
            private byte[] _data = [];

            public void Feed(ReadOnlySpan<byte> bytes)
            {
                var i = 0;
                while (i < bytes.Length)
                {
                    switch (_state)
                    {
                        case 0:
                            var b = bytes[i++];
                            if (b == (byte)'\n')
                            {
                                var text = Encoding.ASCII.GetString([.. _sizeLine]).Trim();
                                _sizeLine.Clear();
                                var semi = text.IndexOf(';', StringComparison.Ordinal);
                                _chunkLeft = long.Parse(semi < 0 ? text : text[..semi], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                                _state = _chunkLeft == 0 ? 2 : 1;
                            }
                            else
                            {
                                _sizeLine.Add(b);
                            }

                            break;
                        case 1:
                            var take = (int)Math.Min(_chunkLeft, bytes.Length - i);
                            Lines(bytes.Slice(i, take));
                            i += take;
                            _chunkLeft -= take;
                            if (_chunkLeft == 0)
                            {
                                _state = 2;
                            }

                            break;
                        default:
                            if (bytes[i++] == (byte)'\n')
                            {
                                _state = 0;
                            }

                            break;
                    }
                }
            }

            private void Lines(ReadOnlySpan<byte> bytes)
            {
                foreach (var b in bytes)
                {
                    if (b != (byte)'\n')
                    {
                        _line.Add(b);
                        continue;
                    }

                    var line = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_line);
                    if (line.IsEmpty)
                    {
                        if (_changed)
                        {
                            owner.OnChanged(_data);
                        }

                        _changed = false;
                    }
                    else if (line.StartsWith("event: "u8))
                    {
                        _changed = line[7..].SequenceEqual("changed"u8);
                    }
                    else if (line.StartsWith("data: "u8))
                    {
                        _data = line[6..].ToArray();
                    }

                    _line.Clear();
                }
            }
        }
    }
}
