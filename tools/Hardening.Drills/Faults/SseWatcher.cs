using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace Hardening.Drills.Faults;

/// <summary>
/// An SSE client of <c>/api/events</c> as a browser's EventSource behaves: it reconnects after every end or error
/// (250 ms later) with the last id it saw in <c>Last-Event-ID</c>, and records every frame it receives (events, the
/// id-only head frame of a new connection, resets) for <see cref="FaultChecks.SseDelivery"/>.
/// </summary>
internal sealed class SseWatcher(string name, DrillUser user, Uri baseAddress, FaultRecorder recorder)
{
    private readonly List<SseFrame> _frames = [];
    private readonly TaskCompletionSource _head = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _connections;
    private string? _lastId;

    public string Name { get; } = name;

    public Guid Tenant => user.Tenant;

    /// <summary>Completes when the first connection has its starting point (the head frame).</summary>
    public Task Connected => _head.Task;

    public int EventCount { get { lock (_frames) { return _frames.Count(f => f.Type is not null && !f.IsReset); } } }

    public WatcherRecord Snapshot()
    {
        lock (_frames)
        {
            return new WatcherRecord(Name, user.Tenant, [.. _frames], Volatile.Read(ref _connections));
        }
    }

    public async Task RunAsync(CancellationToken stop)
    {
        using var http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) }) { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/api/events");
                request.Headers.Accept.ParseAdd("text/event-stream");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
                if (_lastId is not null)
                {
                    request.Headers.Add("Last-Event-ID", _lastId);
                }

                var start = recorder.NowMs;
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stop);
                var html = response.Content.Headers.ContentType?.MediaType == "text/html";
                recorder.Add(new Outcome("sse", start, recorder.NowMs, (int)response.StatusCode, Name, (int)response.StatusCode >= 500 && html));
                if (response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref _connections);
                    await using var stream = await response.Content.ReadAsStreamAsync(stop);
                    await ReadAsync(new StreamReader(stream, Encoding.UTF8), stop);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
            {
                // The connection died (instance killed, Redis down): reconnect with the last id, as EventSource does.
            }

            try
            {
                await Task.Delay(250, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task ReadAsync(StreamReader reader, CancellationToken stop)
    {
        string? id = null, type = null;
        var data = new StringBuilder();
        var hasData = false;
        while (await reader.ReadLineAsync(stop) is { } line)
        {
            if (line.Length == 0)
            {
                if (id is not null || type is not null || hasData)
                {
                    // Every frame the sample sends has an id: an event with none is recorded as malformed.
                    Record(id ?? "", type ?? (hasData ? "message" : null), data.ToString());
                }

                (id, type, hasData) = (null, null, false);
                data.Clear();
                continue;
            }

            if (line.StartsWith(':'))
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..];
            if (value.StartsWith(' '))
            {
                value = value[1..];
            }

            switch (field)
            {
                case "id":
                    id = value;
                    break;
                case "event":
                    type = value;
                    break;
                case "data":
                    if (hasData)
                    {
                        data.Append('\n');
                    }

                    data.Append(value);
                    hasData = true;
                    break;
            }
        }
    }

    private void Record(string id, string? type, string data)
    {
        var dash = id.LastIndexOf('-');
        if (dash <= 0 || !long.TryParse(id.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
        {
            lock (_frames)
            {
                _frames.Add(new SseFrame(id, -1, type ?? "malformed-id", data, recorder.NowMs));
            }

            return;
        }

        lock (_frames)
        {
            _frames.Add(new SseFrame(id[..dash], sequence, type, data, recorder.NowMs));
        }

        _lastId = id;
        _head.TrySetResult();
    }
}
