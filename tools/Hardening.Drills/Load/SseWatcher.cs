using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Hardening.Drills.Load;

/// <summary>One event a watcher received: the stream's id, the type, the candidate it is about, when it arrived.</summary>
internal sealed record ReceivedEvent(string? Id, string Type, Guid? Candidate, DateTimeOffset? CreatedAt, DateTimeOffset ReceivedAt);

/// <summary>
/// A client of <c>GET /api/events</c> for one user (so one tenant): reads frames until stopped, and when the stream
/// breaks (an instance killed, a proxy timeout) reconnects with <c>Last-Event-ID</c> like a browser's EventSource.
/// Records every event, duplicates (an id seen twice) and reconnects.
/// </summary>
internal sealed class SseWatcher
{
    private readonly HttpClient _http;
    private readonly List<ReceivedEvent> _events = [];
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    private string? _lastEventId;

    public SseWatcher(HttpClient http, AtsUser user)
    {
        _http = http;
        User = user;
    }

    /// <summary>Whose stream this is.</summary>
    public AtsUser User { get; }

    /// <summary>When the first connection's response headers arrived (the subscription is then in place), or null.</summary>
    public DateTimeOffset? ConnectedAt { get; private set; }

    /// <summary>Connections opened (1 + reconnects).</summary>
    public int Connects { get; private set; }

    /// <summary>Connection attempts answered with something other than 200 (status or exception name) → count.</summary>
    public Dictionary<string, int> Failures { get; } = new(StringComparer.Ordinal);

    /// <summary>Event ids received more than once.</summary>
    public List<string> DuplicateIds { get; } = [];

    /// <summary>Everything received.</summary>
    public IReadOnlyList<ReceivedEvent> Events { get { lock (_events) { return [.. _events]; } } }

    /// <summary>Completes when the first connection is established (or failed for good).</summary>
    public TaskCompletionSource Connected { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Reads until <paramref name="stop"/> is cancelled, reconnecting after a break.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await ReadOnceAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException or InvalidOperationException)
            {
                Fail(e.GetType().Name);
            }

            try
            {
                await Task.Delay(250, stop);   // EventSource's reconnection delay, shortened
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        Connected.TrySetResult();
    }

    private async Task ReadOnceAsync(CancellationToken stop)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/events");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", User.AccessToken);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (_lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", _lastEventId);
        }

        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stop);
        if ((int)response.StatusCode != 200)
        {
            Fail(((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
            return;
        }

        Connects++;
        ConnectedAt ??= DateTimeOffset.UtcNow;
        Connected.TrySetResult();
        await using var stream = await response.Content.ReadAsStreamAsync(stop);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string? id = null, type = null;
        var data = new StringBuilder();
        while (true)
        {
            var line = await reader.ReadLineAsync(stop);
            if (line is null)
            {
                return;   // the stream broke: reconnect
            }

            if (line.Length == 0)
            {
                if (type is not null || data.Length > 0)
                {
                    Receive(id, type ?? "message", data.ToString());
                }

                id = null;
                type = null;
                data.Clear();
            }
            else if (line.StartsWith("id:", StringComparison.Ordinal))
            {
                id = line[3..].Trim();
            }
            else if (line.StartsWith("event:", StringComparison.Ordinal))
            {
                type = line[6..].Trim();
            }
            else if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                data.Append(line[5..].TrimStart());
            }
        }
    }

    private void Receive(string? id, string type, string data)
    {
        var received = DateTimeOffset.UtcNow;
        Guid? candidate = null;
        DateTimeOffset? createdAt = null;
        try
        {
            using var json = JsonDocument.Parse(data);
            var root = json.RootElement;
            if (type == "candidate.created" && root.TryGetProperty("id", out var cid) && cid.TryGetGuid(out var g1))
            {
                candidate = g1;
                createdAt = root.TryGetProperty("createdAt", out var c) ? c.GetDateTimeOffset() : null;
            }
            else if (root.TryGetProperty("candidateId", out var tid) && tid.TryGetGuid(out var g2))
            {
                candidate = g2;
            }
            else if (root.TryGetProperty("id", out var uid) && uid.TryGetGuid(out var g3))
            {
                candidate = g3;
            }
        }
        catch (JsonException)
        {
        }

        lock (_events)
        {
            if (id is not null)
            {
                _lastEventId = id;
                if (!_ids.Add(id))
                {
                    DuplicateIds.Add(id);
                }
            }

            _events.Add(new ReceivedEvent(id, type, candidate, createdAt, received));
        }
    }

    private void Fail(string reason)
    {
        lock (Failures)
        {
            Failures[reason] = Failures.GetValueOrDefault(reason) + 1;
        }

    }
}
