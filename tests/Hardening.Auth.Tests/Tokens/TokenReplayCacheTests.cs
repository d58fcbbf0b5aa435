using Hardening.Auth;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Hardening.Auth.Tests.Tokens;

/// <summary>
/// <see cref="TokenReplayCache"/> called directly, as IdentityModel calls it: each outcome of the guard, the claims it
/// needs, and a Redis-backed guard (whose consume completes asynchronously).
/// </summary>
public sealed class TokenReplayCacheTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static string Token(string? jti = "j-1", DateTime? issuedAt = null, DateTime? expires = null, string? issuer = "https://issuer.test", bool withIat = true)
    {
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object>();
        if (jti is not null)
        {
            claims["jti"] = jti;
        }

        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Claims = claims,
            Expires = expires ?? now.AddMinutes(10),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey("0123456789abcdef0123456789abcdef-test-key"u8.ToArray()), SecurityAlgorithms.HmacSha256),
        };
        if (withIat)
        {
            descriptor.IssuedAt = issuedAt ?? now;
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    private static (TokenReplayCache Cache, AuthTestKit Kit) Cache(int maxEntries = 10_000)
    {
        var kit = new AuthTestKit(DateTimeOffset.UtcNow.AddSeconds(-1));
        return (new TokenReplayCache(TokenReplayGuardTests.MemoryGuard(kit, maxEntries)), kit);
    }

    [Fact]
    public void The_first_add_consumes_and_a_replay_throws_replay_detected()
    {
        var (cache, kit) = Cache();
        using var _ = kit;
        var token = Token();
        var exp = DateTime.UtcNow.AddMinutes(10);
        Assert.True(cache.TryAdd(token, exp));
        var ex = Assert.Throws<SecurityTokenReplayDetectedException>(() => cache.TryAdd(token, exp));
        Assert.Equal("The token was already used: its (iss, jti) has been consumed before.", ex.Message);

        // Keyed by (iss, jti), not by the string: a re-signed copy with the same ids is the same token.
        Assert.Throws<SecurityTokenReplayDetectedException>(() => cache.TryAdd(Token(issuedAt: DateTime.UtcNow.AddSeconds(1)), exp));
        Assert.True(cache.TryAdd(Token(issuer: "https://other.test"), exp));
        Assert.False(cache.TryFind(token));
    }

    [Fact]
    public void A_token_without_an_issuer_is_keyed_by_the_empty_issuer()
    {
        var (cache, kit) = Cache();
        using var _ = kit;
        var exp = DateTime.UtcNow.AddMinutes(10);
        Assert.True(cache.TryAdd(Token(issuer: null), exp));
        Assert.Throws<SecurityTokenReplayDetectedException>(() => cache.TryAdd(Token(issuer: null), exp));
    }

    [Fact]
    public void Outcomes_the_store_cannot_vouch_for_answer_false()
    {
        var (full, fullKit) = Cache(maxEntries: 1);
        using var _ = fullKit;
        var exp = DateTime.UtcNow.AddMinutes(10);
        Assert.True(full.TryAdd(Token(jti: "fills"), exp));
        Assert.False(full.TryAdd(Token(jti: "full"), exp)); // store full: refused, not thrown
        Assert.Single(fullKit.Logs.Events("ReplayStoreFull"));

        var (cache, kit) = Cache();
        using var __ = kit;
        Assert.False(cache.TryAdd(Token(jti: "old", issuedAt: DateTime.UtcNow.AddHours(-1)), exp)); // issued before the store's memory
        Assert.Single(kit.Logs.Events("TokenIssuedBeforeStoreLoss"));
        Assert.False(cache.TryAdd(Token(jti: "expired", issuedAt: DateTime.UtcNow.AddHours(-1)), DateTime.UtcNow.AddMinutes(-6))); // past exp + 5 min skew
        Assert.Single(kit.Logs.Events("TokenIssuedBeforeStoreLoss"));
    }

    public static TheoryData<string, string, Type> Malformed => new()
    {
        { "not a jwt", "The token given to the replay cache is not a compact JWT.", typeof(SecurityTokenMalformedException) },
        { "no jti", "The token has no 'jti' claim; single-use tokens need a unique jti (and an exp).", typeof(MissingTokenIdException) },
        { "empty jti", "The token has no 'jti' claim; single-use tokens need a unique jti (and an exp).", typeof(MissingTokenIdException) },
        { "no iat", "The token has no 'iat' claim; single-use tokens need an iat, so that tokens issued before the replay store lost its memory can be refused.", typeof(MissingIssuedAtException) },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_token_the_cache_cannot_key_is_refused_with_a_precise_validation_error(string @case, string message, Type type)
    {
        var (cache, kit) = Cache();
        using var _ = kit;
        var token = @case switch
        {
            "not a jwt" => "not-a-jwt",
            "no jti" => Token(jti: null),
            "empty jti" => Token(jti: ""),
            _ => Token(withIat: false),
        };
        var ex = Assert.Throws(type, () => cache.TryAdd(token, DateTime.UtcNow.AddMinutes(10)));
        Assert.Equal(message, ex.Message);
        if (@case == "not a jwt")
        {
            Assert.IsAssignableFrom<ArgumentException>(ex.InnerException);
        }
    }

    [Fact]
    public async Task Over_redis_the_cache_waits_for_the_store_and_keys_by_issuer_and_jti()
    {
        using var kit = new AuthTestKit();
        var options = new TokenReplayGuardOptions { UseRedis = true, KeyPrefix = $"cache:{Guid.NewGuid():N}:" };
        var guard = new TokenReplayGuard(new RedisTokenReplayStore(redis.Multiplexer, options, TimeProvider.System), options, TimeProvider.System, kit.Metrics, kit.Logger<TokenReplayGuard>());
        await ((RedisTokenReplayStore)guard.Store).EnsureMarkersAsync(CancellationToken.None);
        var cache = new TokenReplayCache(guard);
        var exp = DateTime.UtcNow.AddMinutes(10);
        var token = Token(jti: "over-redis", issuedAt: DateTime.UtcNow.AddSeconds(2));
        Assert.True(cache.TryAdd(token, exp));
        Assert.Throws<SecurityTokenReplayDetectedException>(() => cache.TryAdd(token, exp));
        Assert.True(cache.TryAdd(Token(jti: "over-redis-2", issuedAt: DateTime.UtcNow.AddSeconds(2)), exp));
    }

    [Fact]
    public void The_guard_is_required()
    {
        Assert.Throws<ArgumentNullException>("guard", () => new TokenReplayCache(null!));
    }
}
