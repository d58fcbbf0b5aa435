using System.Net;
using System.Net.ServerSentEvents;

namespace Hardening.Sse.Tests.Support;

/// <summary>A test client: reads one SSE response with <see cref="SseParser"/> in the background and records every item.</summary>
internal sealed class SseConnection : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly List<SseItem<string>> _items = [];
    private readonly SemaphoreSlim _changed = new(0, int.MaxValue);
    private readonly HttpResponseMessage _response;
    private readonly Task _reader;
    private volatile SseParser<string>? _parser;

    private SseConnection(HttpResponseMessage response, Stream body)
    {
        _response = response;
        _reader = Task.Run(() => ReadAsync(body));
    }

    public HttpStatusCode Status => _response.StatusCode;

    public HttpResponseMessage Response => _response;

    /// <summary>Completes when the server ends the response (or the connection is disposed).</summary>
    public Task Completion => _reader;

    public IReadOnlyList<SseItem<string>> Items
    {
        get
        {
            lock (_items)
            {
                return [.. _items];
            }
        }
    }

    /// <summary>The parser's last event id (what a browser would send as Last-Event-ID), or null.</summary>
    public string? LastEventId => _parser?.LastEventId is { Length: > 0 } id ? id : null;

    public static async Task<SseConnection> OpenAsync(HttpClient client, string path, string? lastEventId, bool viaQuery = false)
    {
        var uri = lastEventId is not null && viaQuery ? $"{path}?lastEventId={Uri.EscapeDataString(lastEventId)}" : path;
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null && !viaQuery)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStreamAsync();
        return new SseConnection(response, body);
    }

    /// <summary>Waits until <paramref name="condition"/> holds for the items received; fails after <paramref name="timeout"/> (default 15 s).</summary>
    public async Task<IReadOnlyList<SseItem<string>>> WaitUntilAsync(Func<IReadOnlyList<SseItem<string>>, bool> condition, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var items = Items;
            if (condition(items))
            {
                return items;
            }

            if (_reader.IsCompleted)
            {
                throw new InvalidOperationException($"The response ended before the condition held; received: {Describe(items)}");
            }

            try
            {
                await _changed.WaitAsync(TimeSpan.FromMilliseconds(5), deadline.Token); // polls: id-only frames raise no item
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Condition not met in time; received: {Describe(Items)}");
            }
        }
    }

    public Task<IReadOnlyList<SseItem<string>>> WaitForCountAsync(int count, TimeSpan? timeout = null) => WaitUntilAsync(i => i.Count >= count, timeout);

    public static string Describe(IEnumerable<SseItem<string>> items) => string.Join(", ", items.Select(i => $"{i.EventType}#{i.EventId}"));

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        _response.Dispose();
        try
        {
            await _reader;
        }
        catch (Exception) when (_cts.IsCancellationRequested)
        {
        }

        _cts.Dispose();
    }

    private async Task ReadAsync(Stream body)
    {
        try
        {
            _parser = SseParser.Create(body);
            await foreach (var item in _parser.EnumerateAsync(_cts.Token))
            {
                lock (_items)
                {
                    _items.Add(item);
                }

                _changed.Release();
            }
        }
        catch (Exception) when (_cts.IsCancellationRequested)
        {
        }
        catch (IOException)
        {
            // the server went away (crash tests)
        }
        catch (HttpRequestException)
        {
        }
        finally
        {
            _changed.Release();
            await body.DisposeAsync();
        }
    }
}
