using System.Globalization;
using System.Net.ServerSentEvents;
using System.Text;

namespace Hardening.Sse;

/// <summary>Encodes frames. Events go through <see cref="SseFormatter"/> once per event; control frames are constants.</summary>
internal static class SseFrames
{
    public static readonly byte[] Heartbeat = ": heartbeat\n\n"u8.ToArray();

    public static byte[] Encode(SseItem<string> item)
    {
        using var buffer = new MemoryStream(64 + (item.Data?.Length ?? 0));
        // The source completes synchronously and MemoryStream never blocks, so this finishes inline.
        var task = SseFormatter.WriteAsync(One(item), buffer, CancellationToken.None);
        task.GetAwaiter().GetResult();
        return buffer.ToArray();
    }

    public static byte[] Retry(TimeSpan interval) =>
        Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"retry: {(long)interval.TotalMilliseconds}\n\n"));

    public static byte[] Anchor(SseEventId id) => Encoding.ASCII.GetBytes($"id: {id}\n\n");

    public static byte[] Comment(string text) => Encoding.UTF8.GetBytes($": {text}\n\n");

    public static byte[] Reset(SseEventId id, string reason) =>
        Encode(new SseItem<string>(
            string.Create(CultureInfo.InvariantCulture, $"{{\"reason\":\"{reason}\",\"epoch\":\"{id.Epoch}\",\"sequence\":{id.Sequence}}}"),
            SseResetReasons.EventType) { EventId = id.ToString() });

#pragma warning disable CS1998 // a synchronous async iterator
    private static async IAsyncEnumerable<SseItem<string>> One(SseItem<string> item)
    {
        yield return item;
    }
#pragma warning restore CS1998
}

/// <summary>The reasons carried by a <c>reset</c> event.</summary>
internal static class SseResetReasons
{
    public const string EventType = "reset";
    public const string Retention = "retention";
    public const string Epoch = "epoch";
    public const string InvalidId = "invalid-id";
    public const string Ahead = "ahead";
}
