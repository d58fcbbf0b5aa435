using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Hardening.Auth;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Hardening.Auth;

/// <summary>
/// What the partitions of one policy share: the multiplexer, the options and the logger. Resolved from the request's
/// services on first use.
/// </summary>
internal sealed class RedisGcraPolicy(string policyName, RedisRateLimiterOptions options, IConnectionMultiplexer redis, ILogger logger)
{
    // GCRA: one key per partition holding the theoretical arrival time, clocked by Redis TIME so instances agree.
    internal const string GcraScript = """
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
        """;

    /// <summary>The request whose permit is being decided (set by the partitioner, read by the limiter in the same call).</summary>
    internal static readonly AsyncLocal<HttpContext?> Current = new();

    public IDatabase Database { get; } = redis.GetDatabase();

    public RedisRateLimiterOptions Options => options;

    public ILogger Logger => logger;

    public long IntervalMicros { get; } = Math.Max(1, (long)(options.Window.TotalMilliseconds * 1000 / options.PermitLimit));

    /// <summary>The Redis key of a partition: prefix, policy name, and a hash of the partition key (never the key itself).</summary>
    public string KeyOf(string partition)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(partition), hash);
        return string.Concat(options.KeyPrefix, policyName, ":", Convert.ToBase64String(hash[..18]));
    }
}

/// <summary>
/// One partition's limiter. Every decision is a script call on Redis, so the synchronous path always defers to the
/// asynchronous one. It writes <c>RateLimit-Limit</c>/<c>-Remaining</c>/<c>-Reset</c> on every response and
/// <c>Retry-After</c> on refusals.
/// </summary>
internal sealed class RedisGcraRateLimiter(RedisGcraPolicy policy, string key) : RateLimiter
{
    private static readonly RateLimitLease Admitted = new Lease(true, null);
    private static readonly RateLimitLease NotYet = new Lease(false, null);

    private long _lastUse = Environment.TickCount64;

    // No local state, so ASP.NET may drop an idle partition's limiter (after 10 s) and make a new one later.
    public override TimeSpan? IdleDuration => TimeSpan.FromMilliseconds(Environment.TickCount64 - Volatile.Read(ref _lastUse));

    public override RateLimiterStatistics? GetStatistics() => null;

    protected override RateLimitLease AttemptAcquireCore(int permitCount) => NotYet;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _lastUse, Environment.TickCount64);
        var context = RedisGcraPolicy.Current.Value;
        var options = policy.Options;
        RedisResult[] items;
        try
        {
            var reply = await policy.Database.ScriptEvaluateAsync(RedisGcraPolicy.GcraScript, [key], [policy.IntervalMicros, options.PermitLimit])
                .WaitAsync(options.StoreTimeout, cancellationToken).ConfigureAwait(false);
            items = (RedisResult[])reply!;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            AuthLog.RateLimitStoreUnavailable(policy.Logger, options.FailOpen ? "allowed (FailOpen)" : "refused with 429 (fail closed)", ex);
            if (options.FailOpen)
            {
                return Admitted;
            }

            context?.Response.Headers.RetryAfter = "1";
            return new Lease(false, TimeSpan.FromSeconds(1));
        }

        var allowed = (long)items[0] == 1;
        if (context is not null)
        {
            var headers = context.Response.Headers;
            headers["RateLimit-Limit"] = options.PermitLimit.ToString(CultureInfo.InvariantCulture);
            headers["RateLimit-Remaining"] = ((long)items[1]).ToString(CultureInfo.InvariantCulture);
            headers["RateLimit-Reset"] = CeilSeconds((long)items[3]).ToString(CultureInfo.InvariantCulture);
        }

        if (allowed)
        {
            return Admitted;
        }

        var retry = CeilSeconds((long)items[2]);
        context?.Response.Headers.RetryAfter = retry.ToString(CultureInfo.InvariantCulture);
        return new Lease(false, TimeSpan.FromSeconds(retry));
    }

    private static long CeilSeconds(long micros) => Math.Max(0, (micros + 999_999) / 1_000_000);

    internal sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
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

/// <summary>A partition without a key (no client address, or the app's key function returned nothing): always refused.</summary>
internal sealed class NoPartitionLimiter : RateLimiter
{
    public static readonly NoPartitionLimiter Instance = new();

    public override TimeSpan? IdleDuration => null;

    public override RateLimiterStatistics? GetStatistics() => null;

    protected override RateLimitLease AttemptAcquireCore(int permitCount) => new RedisGcraRateLimiter.Lease(false, null);

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) => new(new RedisGcraRateLimiter.Lease(false, null));
}
