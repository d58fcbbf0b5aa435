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
    // GCRA: one key per limit holding the theoretical arrival time (TAT), clocked by Redis TIME so instances agree.
    // KEYS[i] has ARGV[2i-1] = emission interval (us) and ARGV[2i] = burst; a request is admitted only if every key
    // conforms, and then every key advances (all or nothing, one slot, one round trip).
    internal const string GcraScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local wait, remaining, held, reset = 0, -1, 0, 0
        local next = {}
        for i = 1, #KEYS do
          local interval = tonumber(ARGV[2 * i - 1])
          local burst = tonumber(ARGV[2 * i])
          local tat = tonumber(redis.call('GET', KEYS[i]) or now)
          if tat < now then tat = now end
          local new_tat = tat + interval
          local allow_at = new_tat - burst * interval
          next[i] = new_tat
          if tat - now > held then held = tat - now end
          if new_tat - now > reset then reset = new_tat - now end
          if now < allow_at then
            if allow_at - now > wait then wait = allow_at - now end
          else
            local r = math.floor((now - allow_at) / interval)
            if remaining < 0 or r < remaining then remaining = r end
          end
        end
        if wait > 0 then
          return { 0, 0, wait, held }
        end
        for i = 1, #KEYS do
          redis.call('SET', KEYS[i], string.format('%.0f', next[i]), 'PX', math.ceil((next[i] - now) / 1000))
        end
        return { 1, remaining, 0, reset }
        """;

    /// <summary>The request whose permit is being decided (set by the partitioner, read by the limiter in the same call).</summary>
    internal static readonly AsyncLocal<HttpContext?> Current = new();

    public IDatabase Database { get; } = redis.GetDatabase();

    public RedisRateLimiterOptions Options => options;

    public ILogger Logger => logger;

    public long IntervalMicros { get; } = Interval(options.Window, options.PermitLimit);

    /// <summary>The IPv6 network limits in force (longest prefix first), empty for none.</summary>
    public IReadOnlyList<KeyValuePair<int, int>> NetworkLimits { get; } = options.EffectiveNetworkLimits();

    /// <summary>The Redis key of a partition: prefix, policy name, and a hash of the partition key (never the key itself).</summary>
    public string KeyOf(string partition) => string.Concat(options.KeyPrefix, policyName, ":", Hash(partition));

    /// <summary>
    /// The keys and arguments of one decision: the partition's key, and for an IPv6 client with network limits one key
    /// per network prefix. Those keys share the hash tag of the coarsest network, so the script runs on one slot.
    /// </summary>
    public (RedisKey[] Keys, RedisValue[] Args) Limits(string partition, System.Net.IPAddress? client)
    {
        if (NetworkLimits.Count == 0 || client is null || !ThrottleKeys.IsIPv6(client))
        {
            return ([KeyOf(partition)], [IntervalMicros, options.PermitLimit]);
        }

        var tag = string.Concat(options.KeyPrefix, policyName, ":{", Hash(ThrottleKeys.Network(client, NetworkLimits[^1].Key)), "}:");
        var keys = new RedisKey[1 + NetworkLimits.Count];
        var args = new RedisValue[2 * keys.Length];
        keys[0] = tag + Hash(partition);
        args[0] = IntervalMicros;
        args[1] = options.PermitLimit;
        for (var i = 0; i < NetworkLimits.Count; i++)
        {
            var (length, permits) = NetworkLimits[i];
            keys[i + 1] = string.Concat(tag, "n:", Hash(ThrottleKeys.Network(client, length)));
            args[2 * (i + 1)] = Interval(options.Window, permits);
            args[(2 * (i + 1)) + 1] = permits;
        }

        return (keys, args);
    }

    private static long Interval(TimeSpan window, int permits) => Math.Max(1, (long)(window.TotalMilliseconds * 1000 / permits));

    private static string Hash(string value)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(value), hash);
        return Convert.ToBase64String(hash[..18]);
    }
}

/// <summary>
/// One partition's limiter. Every decision is a script call on Redis, so the synchronous path always defers to the
/// asynchronous one. It writes <c>RateLimit-Limit</c>/<c>-Remaining</c>/<c>-Reset</c> on every response and
/// <c>Retry-After</c> on refusals.
/// </summary>
internal sealed class RedisGcraRateLimiter(RedisGcraPolicy policy, RedisKey[] keys, RedisValue[] args) : RateLimiter
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
            var reply = await policy.Database.ScriptEvaluateAsync(RedisGcraPolicy.GcraScript, keys, args)
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
