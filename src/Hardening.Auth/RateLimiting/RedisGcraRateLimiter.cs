using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Hardening.Auth.Diagnostics;
using Hardening.Redis;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Hardening.Auth.RateLimiting;

/// <summary>
/// A <see cref="PartitionedRateLimiter{HttpContext}"/> whose state lives in Redis: GCRA (one key per partition holding
/// the theoretical arrival time), one Lua script per request clocked by Redis <c>TIME</c>. It writes
/// <c>RateLimit-Limit</c>/<c>-Remaining</c>/<c>-Reset</c> on every response and <c>Retry-After</c> on refusals.
/// </summary>
internal sealed class RedisGcraRateLimiter(RedisConnection connection, RedisRateLimiterOptions options, ILogger logger) : PartitionedRateLimiter<HttpContext>
{
    internal static readonly RedisScript GcraScript = new("""
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local interval = tonumber(ARGV[1])
        local burst = tonumber(ARGV[2])
        local tat = tonumber(redis.call('GET', KEYS[1]) or now)
        if tat < now then tat = now end
        local new_tat = tat + interval
        local allow_at = new_tat - burst * interval
        if now < allow_at then
          return { 0, 0, allow_at - now, tat - now }
        end
        redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
        return { 1, math.floor((now - allow_at) / interval), 0, new_tat - now }
        """);

    private static readonly RateLimitLease Admitted = new Lease(true, null);
    private readonly long _intervalMicros = Math.Max(1, (long)(options.Window.TotalMilliseconds * 1000 / options.PermitLimit));

    public override RateLimiterStatistics? GetStatistics(HttpContext resource) => null;

    // Every decision needs Redis, so the synchronous path always defers to the asynchronous one.
    protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount) => new Lease(false, null);

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken)
    {
        var key = options.KeyPrefix + Hash(options.PartitionKey(resource));
        RespValue reply;
        try
        {
            reply = await connection.EvaluateAsync(GcraScript, [key], [_intervalMicros, (long)options.PermitLimit], cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
        {
            AuthLog.RateLimitStoreUnavailable(logger, options.FailOpen ? "allowed (FailOpen)" : "refused with 429 (fail closed)", ex);
            if (options.FailOpen)
            {
                return Admitted;
            }

            resource.Response.Headers.RetryAfter = "1";
            return new Lease(false, TimeSpan.FromSeconds(1));
        }

        var items = reply.Items;
        var allowed = items[0].AsInt64() == 1;
        var headers = resource.Response.Headers;
        headers["RateLimit-Limit"] = options.PermitLimit.ToString(CultureInfo.InvariantCulture);
        headers["RateLimit-Remaining"] = items[1].AsInt64().ToString(CultureInfo.InvariantCulture);
        headers["RateLimit-Reset"] = CeilSeconds(items[3].AsInt64()).ToString(CultureInfo.InvariantCulture);
        if (allowed)
        {
            return Admitted;
        }

        var retry = CeilSeconds(items[2].AsInt64());
        headers.RetryAfter = retry.ToString(CultureInfo.InvariantCulture);
        return new Lease(false, TimeSpan.FromSeconds(retry));
    }

    private static long CeilSeconds(long micros) => Math.Max(0, (micros + 999_999) / 1_000_000);

    private static string Hash(string partition)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(partition), hash);
        return Convert.ToBase64String(hash[..18]);
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            if (retryAfter is { } r && metadataName == MetadataName.RetryAfter.Name)
            {
                metadata = r;
                return true;
            }

            metadata = null;
            return false;
        }
    }
}
