using System.Globalization;
using System.Text;
using StackExchange.Redis;

namespace Hardening.Sse;

/// <summary>
/// What <see cref="RedisSseStore"/> puts on Redis: key and channel names, the live notification published by the
/// append script, log entries, and the barrier a store publishes to learn that its subscription is live.
/// </summary>
internal static class RedisSseWire
{
    /// <summary>First byte of a barrier on a stream's channel (never the first byte of an epoch, so never a notification).</summary>
    public const byte BarrierMark = 0x01;

    /// <summary>The stream's hash and log; the hash tag keeps both (and the channel) in one cluster slot, as the scripts require.</summary>
    public static RedisKey[] Keys(string prefix, string stream)
    {
        var tag = prefix + "{" + stream + "}";
        return [tag + ":meta", tag + ":log"];
    }

    /// <summary>The stream's key remembering a deduplication key (same hash tag, so the append script may touch it).</summary>
    public static RedisKey DeduplicationKey(string prefix, string stream, string key) => prefix + "{" + stream + "}:dedup:" + key;

    /// <summary>The stream's sharded channel.</summary>
    public static string Channel(string prefix, string stream) => prefix + "{" + stream + "}:n";

    /// <summary>A barrier payload, unique to one store instance and round.</summary>
    public static byte[] Barrier(string instance, long round) =>
        Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{(char)BarrierMark}{instance}:{round}"));

    public static SseEvent ParseNotification(string stream, ReadOnlySpan<byte> payload)
    {
        // epoch \n seq \n ts \n type \n data (data may hold more \n: it is last)
        Span<int> ends = stackalloc int[4];
        var offset = 0;
        for (var i = 0; i < 4; i++)
        {
            var nl = payload[offset..].IndexOf((byte)'\n');
            if (nl < 0)
            {
                throw new FormatException("Malformed SSE notification.");
            }

            ends[i] = offset + nl;
            offset = ends[i] + 1;
        }

        return new SseEvent(
            stream,
            Encoding.UTF8.GetString(payload[..ends[0]]),
            long.Parse(payload[(ends[0] + 1)..ends[1]], NumberStyles.None, CultureInfo.InvariantCulture),
            Encoding.UTF8.GetString(payload[(ends[2] + 1)..ends[3]]),
            Encoding.UTF8.GetString(payload[(ends[3] + 1)..]),
            DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(payload[(ends[1] + 1)..ends[2]], NumberStyles.None, CultureInfo.InvariantCulture)));
    }

    /// <summary>A log entry (<c>&lt;sequence&gt;-0</c> with fields t, d, ts) as an event of <paramref name="epoch"/>.</summary>
    public static SseEvent ToEvent(string stream, string epoch, RedisResult[] entry)
    {
        var id = (string)entry[0]!;
        var sequence = long.Parse(id.AsSpan(0, id.IndexOf('-', StringComparison.Ordinal)), NumberStyles.None, CultureInfo.InvariantCulture);
        string type = "", data = "";
        long ts = 0;
        var fields = (RedisResult[])entry[1]!;
        for (var i = 0; i + 1 < fields.Length; i += 2)
        {
            switch ((string?)fields[i])
            {
                case "t": type = (string)fields[i + 1]!; break;
                case "d": data = (string)fields[i + 1]!; break;
                case "ts": ts = (long)fields[i + 1]; break;
            }
        }

        return new SseEvent(stream, epoch, sequence, type, data, DateTimeOffset.FromUnixTimeMilliseconds(ts));
    }
}
