using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Hardening.Auth;

namespace Hardening.Auth.Tests.Tokens;

public sealed class ReplayKeyTests
{
    [Fact]
    public void Length_prefixing_separates_issuer_and_jti_boundaries()
    {
        Assert.NotEqual(ReplayKey.Compute("a", "bc"), ReplayKey.Compute("ab", "c"));
        Assert.NotEqual(ReplayKey.Compute("", "abc"), ReplayKey.Compute("abc", ""));
        Assert.Equal(ReplayKey.Compute("iss", "jti"), ReplayKey.Compute("iss", "jti"));
    }

    [Property(MaxTest = 300)]
    public Property Distinct_pairs_get_distinct_keys() =>
        Prop.ForAll(ArbMap.Default.ArbFor<string>().Filter(s => s is not null && IsValidUtf16(s)), ArbMap.Default.ArbFor<string>().Filter(s => s is not null && IsValidUtf16(s)), ArbMap.Default.ArbFor<int>(),
            (issuer, jti, split) =>
            {
                // Moving the boundary between issuer and jti must change the key unless it yields the same pair.
                var joined = issuer + jti;
                var at = joined.Length == 0 ? 0 : Math.Abs(split % (joined.Length + 1));
                var other = (joined[..at], joined[at..]);
                var same = other == (issuer, jti);
                return same == (ReplayKey.Compute(issuer, jti) == ReplayKey.Compute(other.Item1, other.Item2));
            });

    [Fact]
    public void Redis_key_is_prefix_plus_fixed_length_hash_never_the_claims()
    {
        var shortKey = ReplayKey.Compute("https://issuer", "1").ToRedisKey("app:jti:");
        var longKey = ReplayKey.Compute("https://issuer", new string('x', 10_000)).ToRedisKey("app:jti:");
        Assert.StartsWith("app:jti:", shortKey, StringComparison.Ordinal);
        Assert.Equal("app:jti:".Length + 3 + 43, shortKey.Length); // prefix, {g} hash tag, base64url SHA-256
        Assert.Equal(shortKey.Length, longKey.Length);
        Assert.DoesNotContain("issuer", shortKey, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lone_surrogate_is_rejected_with_a_clear_error()
    {
        var ex = Assert.Throws<ArgumentException>(() => ReplayKey.Compute("iss", "a\uD800b"));
        Assert.Contains("surrogate", ex.Message, StringComparison.Ordinal);
    }

    private static bool IsValidUtf16(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(s[i]))
            {
                return false;
            }
        }

        return true;
    }
}
