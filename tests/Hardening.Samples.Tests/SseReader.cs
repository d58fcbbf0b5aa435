using System.Text;

namespace Hardening.Samples.Tests;

/// <summary>Reads an SSE response line by line into (id, event, data) frames.</summary>
public sealed class SseReader : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private SseReader(HttpResponseMessage response, Stream stream)
    {
        _response = response;
        _reader = new StreamReader(stream, Encoding.UTF8);
    }

    public int StatusCode => (int)_response.StatusCode;

    public static async Task<SseReader> OpenAsync(HttpClient http, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/event-stream");
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return new SseReader(response, await response.Content.ReadAsStreamAsync());
    }

    /// <summary>Reads frames until one satisfies <paramref name="until"/>; returns all frames read (with it). Fails after the timeout.</summary>
    public async Task<List<(string? Id, string? Event, string Data)>> ReadUntilAsync(Func<string?, string, bool> until, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var frames = new List<(string?, string?, string)>();
        string? id = null, type = null;
        var data = new StringBuilder();
        while (true)
        {
            var line = await _reader.ReadLineAsync(cts.Token) ?? throw new InvalidOperationException("The stream ended.");
            if (line.Length == 0)
            {
                if (type is not null || data.Length > 0)
                {
                    frames.Add((id, type, data.ToString()));
                    if (until(type, data.ToString()))
                    {
                        return frames;
                    }
                }

                type = null;
                data.Clear();
                continue;
            }

            if (line.StartsWith("id:", StringComparison.Ordinal))
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

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        await Task.CompletedTask;
    }
}
