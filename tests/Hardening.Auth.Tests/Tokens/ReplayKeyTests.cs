using System.Globalization;
using System.Text;
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

    /// <summary>Rows of <c>KnownAnswers/replay_key_kat.tsv</c>, computed by <c>replay_key_kat.py</c> with Python's hashlib.</summary>
    public static TheoryData<string, string, string, string, int, string, string> KnownAnswers()
    {
        var data = new TheoryData<string, string, string, string, int, string, string>();
        var path = Path.Combine(RepoPaths.Root, "tests", "Hardening.Auth.Tests", "Tokens", "KnownAnswers", "replay_key_kat.tsv");
        foreach (var f in File.ReadAllLines(path).Where(l => l.Length > 0 && l[0] != '#').Select(l => l.Split('\t')))
        {
            data.Add(Utf8(f[0]), Utf8(f[1]), f[2], f[3], int.Parse(f[4], CultureInfo.InvariantCulture), f[5], f[6]);
        }

        return data;
    }

    private static string Utf8(string hex) => hex == "-" ? string.Empty : Encoding.UTF8.GetString(Convert.FromHexString(hex));

    [Theory]
    [MemberData(nameof(KnownAnswers))]
    public void Key_layout_matches_the_python_vectors(string issuer, string jti, string prefix, string hash, int bucket, string redisKey, string markerKey)
    {
        var key = ReplayKey.Compute(issuer, jti);
        Assert.Equal(redisKey, key.ToRedisKey(prefix));
        Assert.Equal(markerKey, key.ToRedisMarker(prefix));
        Assert.EndsWith(hash, key.ToRedisKey(prefix), StringComparison.Ordinal);
        Assert.Equal(bucket, key.Bucket);
        Assert.Contains(markerKey, ReplayKey.AllRedisMarkers(prefix));
        Assert.Equal(markerKey, ReplayKey.AllRedisMarkers(prefix).ElementAt(key.Group)); // the store's cached marker for the group
    }

    [Fact]
    public void Input_just_past_the_stack_buffer_hashes_like_any_other()
    {
        // 520 bytes to hash (22 domain + 4 + "iss" + 4 + 487 jti bytes), more than the 512-byte stack buffer. Python:
        //   d = b"hardening.auth.jti.v1\0" + (3).to_bytes(4,"big") + b"iss" + (487).to_bytes(4,"big") + b"x" * 487
        //   base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b"=")
        Assert.Equal("p:{w}w6F-ujDSrUTz0R3i8TIC-ET3WtPlgSP5TqNH1bNHpzU", ReplayKey.Compute("iss", new string('x', 487)).ToRedisKey("p:"));
    }

    [Fact]
    public void There_is_one_marker_per_base64url_character_in_alphabet_order()
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        Assert.Equal(Alphabet.Select(c => "p:{" + c + "}:since"), ReplayKey.AllRedisMarkers("p:"));
    }

    [Fact]
    public void Keys_are_equal_only_when_every_hash_word_is_equal()
    {
        var a = ReplayKey.Compute("iss", "the-jti");
        var same = ReplayKey.Compute("iss", "the-jti");
        var other = ReplayKey.Compute("iss", "the-jtj");
        Assert.True(a == same);
        Assert.False(a != same);
        Assert.True(a.Equals((object)same));
        Assert.False(a.Equals((object)"iss"));
        Assert.Equal(a.GetHashCode(), same.GetHashCode());
        Assert.True(a != other);
        Assert.False(a == other);
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
