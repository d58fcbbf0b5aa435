using System.Globalization;
using System.Text;
using Hardening.Auth;
using Microsoft.AspNetCore.Identity;

namespace Hardening.Auth.Tests.Passwords;

/// <summary>
/// Known answers for the keyed pre-hash and the stored format, computed by <c>KnownAnswers/prehash_kat.py</c> with
/// Python's unicodedata (NFKC), hmac/hashlib and libxcrypt, never with this code. They pin the hand-written UTF-8 step
/// (1-, 2-, 3- and 4-byte sequences at their boundaries, unpaired surrogates written as their own 3-byte sequences),
/// the NFKC step and the decision to skip it for ill-formed text, the domain key, the pepper and both stored formats:
/// a change to any of them that would let a different password match, or forget every stored hash, fails here.
/// </summary>
public sealed class PasswordPreHashKnownAnswerTests
{
    private const string Pepper = "kat-pepper-0123456789abcdef";

    public sealed record Vector(string Name, string Password, string? PepperId, string PreHash, string Stored);

    private static readonly Lazy<Vector[]> All = new(() =>
        File.ReadAllLines(Path.Combine(RepoPaths.Root, "tests", "Hardening.Auth.Tests", "Passwords", "KnownAnswers", "prehash_kat.tsv"))
            .Where(line => line.Length > 0 && line[0] != '#')
            .Select(line => line.Split('\t'))
            .Select(f => new Vector(f[0], Decode(f[1]), f[2] == "-" ? null : f[2], f[3], f[4]))
            .ToArray());

    public static TheoryData<string, string> Rows()
    {
        var data = new TheoryData<string, string>();
        foreach (var v in All.Value)
        {
            data.Add(v.Name, v.PepperId ?? "-");
        }

        return data;
    }

    private static string Decode(string units) => units == "-"
        ? string.Empty
        : new string(units.Split(' ').Select(u => (char)int.Parse(u, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray());

    private static bool WellFormed(string s)
    {
        try
        {
            _ = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetByteCount(s);
            return true;
        }
        catch (EncoderFallbackException)
        {
            return false;
        }
    }

    private static Vector Find(string name, string pepperId) =>
        All.Value.Single(v => v.Name == name && (v.PepperId ?? "-") == pepperId);

    private static byte[] Key(Vector v) => v.PepperId is null ? PasswordPreHash.DomainKey.ToArray() : Encoding.UTF8.GetBytes(Pepper);

    private static PasswordHasher Hasher(Vector v) => new(new PasswordHasherOptions
    {
        Cost = 4,
        Pepper = v.PepperId is null ? null : Pepper,
        PepperId = v.PepperId ?? "1",
        UseFips = v.Stored.StartsWith("$hpbkdf2-sha512$", StringComparison.Ordinal),
    });

    [Fact]
    public void The_vector_file_covers_every_class_of_input()
    {
        Assert.True(All.Value.Length >= 70, $"only {All.Value.Length} vectors");
        var bytes = All.Value.Select(v => v.Password).Where(WellFormed).SelectMany(p => p.EnumerateRunes()).Select(r => r.Utf8SequenceLength).ToHashSet();
        Assert.Equal([1, 2, 3, 4], bytes.Order());
        Assert.Contains(All.Value, v => !WellFormed(v.Password));
        Assert.Contains(All.Value, v => v.Stored.StartsWith("$hpbkdf2-sha512$", StringComparison.Ordinal));

        // Python's NFKC makes exactly one pair of inputs equal: e + U+0301 composes to U+00E9.
        var shared = All.Value.GroupBy(v => v.PreHash, StringComparer.Ordinal).Where(g => g.Count() > 1).ToList();
        Assert.Equal(2, shared.Count);
        Assert.All(shared, g => Assert.Equal(["2-byte e-acute", "NFKC combining acute composes"], g.Select(v => v.Name).Order(StringComparer.Ordinal)));
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void Pre_hash_equals_the_python_vector(string name, string pepperId)
    {
        var v = Find(name, pepperId);
        var actual = new byte[PasswordPreHash.EncodedSize];
        PasswordPreHash.Compute(v.Password, Key(v), actual);
        Assert.Equal(v.PreHash, Encoding.ASCII.GetString(actual));
    }

    [Fact]
    public void Well_formed_text_that_dotnet_refuses_to_normalise_is_hashed_as_is()
    {
        // U+FFFE is well-formed UTF-16, but string.Normalize throws ArgumentException on it (.NET with ICU). Python:
        // base64(hmac.new(domain key, s.encode("utf-8"), hashlib.sha384).digest()), NFKC not applied.
        // "a\uFFFEb" is its own NFKC, so this value holds under either rule.
        Assert.Equal("tsZVvID1JWPF9rQn7LydYAF/uG/Ry40O80Y8p3+SjiEMS/PKHUF3Ux/JI3rRuBXX", PreHash("a\uFFFEb"));

        // Pins today's behaviour: the ligature U+FB01 is not folded to "fi" next to U+FFFE (NFKC would give
        // NBlFzbg+xU9KOI2ZOdt4j4zh0QjtqkTn3UC9lQSylw/FU231IwUAVWgM+t4mr0b5, the value of "fi\uFFFE").
        Assert.Equal("IToqRI1RLBTugnSbdVwIsoG1dgDQkCcehjaF2QAzEZCyfJtRGQUxKTDGDdku7Np9", PreHash("\uFB01\uFFFE"));

        var hasher = new PasswordHasher(new PasswordHasherOptions { Cost = 4 });
        Assert.Equal(PasswordVerificationResult.Success, hasher.Verify("a\uFFFEb", hasher.Hash("a\uFFFEb")));
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("a\uFFFDb", hasher.Hash("a\uFFFEb")));

        static string PreHash(string password)
        {
            var actual = new byte[PasswordPreHash.EncodedSize];
            PasswordPreHash.Compute(password, PasswordPreHash.DomainKey, actual);
            return Encoding.ASCII.GetString(actual);
        }
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void Stored_hash_from_python_and_libxcrypt_verifies_as_current(string name, string pepperId)
    {
        var v = Find(name, pepperId);
        Assert.Equal(PasswordVerificationResult.Success, Hasher(v).Verify(v.Password, v.Stored));
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void The_next_vectors_password_does_not_verify_against_this_stored_hash(string name, string pepperId)
    {
        var all = All.Value;
        var i = Array.FindIndex(all, v => v.Name == name && (v.PepperId ?? "-") == pepperId);
        var v = all[i];
        var other = all.Skip(i + 1).Concat(all).First(o => o.PreHash != v.PreHash && o.PepperId == v.PepperId && !string.Equals(o.Password, v.Password, StringComparison.Ordinal));
        Assert.Equal(PasswordVerificationResult.Failed, Hasher(v).Verify(other.Password, v.Stored));
    }
}
