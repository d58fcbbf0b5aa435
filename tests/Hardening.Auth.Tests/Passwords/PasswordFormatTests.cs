using Hardening.Auth;

namespace Hardening.Auth.Tests.Passwords;

/// <summary>
/// The stored-hash formats without running bcrypt: PHC base64 and bcrypt's base64 against Python's base64 module
/// (<c>base64.b64encode(data).rstrip(b"=")</c>, and the same translated to bcrypt's alphabet <c>./A-Za-z0-9</c>), and
/// every parser message against a hand-written table.
/// </summary>
public sealed class PasswordFormatTests
{
    // n, data (hex), PHC base64, bcrypt base64: data = (sha256(b"vector-%d" % n) * 2)[:n], computed with Python.
    public static TheoryData<int, string, string, string> Base64Vectors => new()
    {
        { 0, "", "", "" },
        { 1, "07", "Bw", "/u" },
        { 2, "7a41", "ekE", "ciC" },
        { 3, "149bf3", "FJvz", "DHtx" },
        { 4, "229e225a", "Ip4iWg", "Gn2gUe" },
        { 5, "f7f37b8bd8", "9/N7i9g", "79L5g7e" },
        { 16, "a9a23279bb76c1ca835c84cc9e09c3d7", "qaIyebt2wcqDXITMngnD1w", "oYGwcZr0uaoBVGRKlelBzu" },
        { 23, "054f7d547351ce760c1d935cab22185a7536b4c577c0a4", "BU99VHNRznYMHZNcqyIYWnU2tMV3wKQ", "/S77TFLPxlWKFXLaowGWUlS0rKT1uIO" },
        { 32, "468cc597cd1ca740afca193984abde1523a274b143d6ce255a84a36204226fa8", "RozFl80cp0Cvyhk5hKveFSOidLFD1s4lWoSjYgQib6g", "PmxDj6yanyAtwfi3fItcDQMgbJDBzq2jUmQhWeOgZ4e" },
    };

    [Theory]
    [MemberData(nameof(Base64Vectors))]
    public void Phc_base64_matches_python(int n, string hex, string phc, string bcrypt)
    {
        _ = bcrypt;
        var data = Convert.FromHexString(hex);
        Assert.Equal(phc.Length, PhcBase64.EncodedLength(n));
        var chars = new char[phc.Length];
        PhcBase64.Encode(data, chars);
        Assert.Equal(phc, new string(chars));
        var decoded = new byte[n];
        Assert.True(PhcBase64.TryDecode(phc, decoded));
        Assert.Equal(data, decoded);
    }

    [Theory]
    [MemberData(nameof(Base64Vectors))]
    public void Bcrypt_base64_matches_python(int n, string hex, string phc, string bcrypt)
    {
        _ = phc;
        var data = Convert.FromHexString(hex);
        var chars = new char[bcrypt.Length];
        BCryptFormat.Encode(data, chars);
        Assert.Equal(bcrypt, new string(chars));
        var decoded = new byte[n];
        Assert.True(BCryptFormat.TryDecode(bcrypt, decoded));
        Assert.Equal(data, decoded);
        Assert.True(BCryptFormat.TryDecode(bcrypt + "extra", decoded)); // reads only what it needs
        Assert.Equal(data, decoded);
        if (n > 0)
        {
            Assert.False(BCryptFormat.TryDecode(bcrypt.AsSpan(0, bcrypt.Length - 1), decoded)); // one character short
            Assert.False(BCryptFormat.TryDecode("+" + bcrypt[1..], decoded)); // '+' is not in bcrypt's alphabet
            Assert.False(BCryptFormat.TryDecode(bcrypt[..^1] + "=", decoded));
        }
    }

    [Theory]
    [InlineData("qaIyebt2wcqDXITMngnD1", 16, "one character short")]
    [InlineData("qaIyebt2wcqDXITMngnD1w=", 16, "padding")]
    [InlineData("qaIyebt2wcqDXITMngnD1x", 16, "non-zero spare bits")]
    [InlineData("qaIyebt2wcqDXITMngnD1-", 16, "base64url character")]
    [InlineData("qaIyebt2wcqDXITMngnD1_", 16, "base64url character")]
    [InlineData("qaIyebt2wcqDX TMngnD1w", 16, "space")]
    [InlineData("qaIyebt2wcqDX.TMngnD1w", 16, "bcrypt's '.'")]
    [InlineData("Bx", 1, "non-zero spare bits (4)")]
    [InlineData("ekF", 2, "non-zero spare bits (2)")]
    [InlineData("qaIyebt2wcqDXITMngnD14", 16, "a digit with non-zero spare bits ('4' is 56: 0b111000)")]
    public void Phc_base64_refuses_anything_but_the_canonical_spelling(string text, int bytes, string why)
    {
        Assert.False(PhcBase64.TryDecode(text, new byte[bytes]), why);
    }

    [Fact]
    public void Phc_base64_accepts_every_alphabet_character_and_at_most_256_bytes()
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        var all = new byte[48];
        Assert.True(PhcBase64.TryDecode(Alphabet, all));
        Assert.Equal(Convert.FromBase64String(Alphabet), all);

        var max = new byte[256];
        var text = new string('A', PhcBase64.EncodedLength(256));
        Assert.True(PhcBase64.TryDecode(text, max));
        Assert.False(PhcBase64.TryDecode(new string('A', PhcBase64.EncodedLength(257)), new byte[257]));
    }

    [Theory]
    [InlineData('b', 4, "$2b$04$")]
    [InlineData('a', 10, "$2a$10$")]
    [InlineData('y', 31, "$2y$31$")]
    public void Bcrypt_strings_carry_the_minor_and_two_cost_digits(char letter, int cost, string prefix)
    {
        var minor = letter switch { 'a' => BCryptMinor.A, 'y' => BCryptMinor.Y, _ => BCryptMinor.B };
        var salt = Convert.FromHexString("a9a23279bb76c1ca835c84cc9e09c3d7");
        var digest = Convert.FromHexString("054f7d547351ce760c1d935cab22185a7536b4c577c0a4");
        var text = BCryptFormat.Format(minor, cost, salt, digest);
        Assert.Equal(prefix + "oYGwcZr0uaoBVGRKlelBzu" + "/S77TFLPxlWKFXLaowGWUlS0rKT1uIO", text);
        var parsedSalt = new byte[16];
        Assert.Null(BCryptFormat.TryParse(text, requireDigest: true, out var parsedMinor, out var parsedCost, parsedSalt));
        Assert.Equal(minor, parsedMinor);
        Assert.Equal(cost, parsedCost);
        Assert.Equal(salt, parsedSalt);
        Assert.Null(BCryptFormat.TryParse(text.AsSpan(0, BCryptFormat.SettingLength), requireDigest: false, out _, out _, parsedSalt));
    }

    private const string BSalt = "oYGwcZr0uaoBVGRKlelBzu";
    private const string BDigest = "/S77TFLPxlWKFXLaowGWUlS0rKT1uIO";

    [Theory]
    [InlineData("", true, "not a bcrypt hash (expected a '$2b$', '$2a$' or '$2y$' prefix)")]
    [InlineData("$2b", true, "not a bcrypt hash (expected a '$2b$', '$2a$' or '$2y$' prefix)")]
    [InlineData("$2b$", true, "a bcrypt hash is 60 characters long, this one has 4")] // the shortest string read past the prefix
    [InlineData("$2b$", false, "a bcrypt setting is 29 characters long, this one has 4")]
    [InlineData("$2x$", true, "'$2x$' bcrypt hashes come from the crypt_blowfish sign-extension bug and are not supported; reset the password")]
    [InlineData("#2b$04$" + BSalt + BDigest, true, "not a bcrypt hash (expected a '$2b$', '$2a$' or '$2y$' prefix)")]
    [InlineData("$3b$04$" + BSalt + BDigest, true, "not a bcrypt hash (expected a '$2b$', '$2a$' or '$2y$' prefix)")]
    [InlineData("$2b#04$" + BSalt + BDigest, true, "not a bcrypt hash (expected a '$2b$', '$2a$' or '$2y$' prefix)")]
    [InlineData("$2c$04$" + BSalt + BDigest, true, "unknown bcrypt version (expected '$2b$', '$2a$' or '$2y$')")]
    [InlineData("$2x$04$" + BSalt + BDigest, true, "'$2x$' bcrypt hashes come from the crypt_blowfish sign-extension bug and are not supported; reset the password")]
    [InlineData("$2b$04$" + BSalt + BDigest + "A", true, "a bcrypt hash is 60 characters long, this one has 61")]
    [InlineData("$2b$04$" + BSalt, true, "a bcrypt hash is 60 characters long, this one has 29")]
    [InlineData("$2b$04$" + BSalt + BDigest, false, "a bcrypt setting is 29 characters long, this one has 60")]
    [InlineData("$2b$0a$" + BSalt + BDigest, true, "the bcrypt cost is not two decimal digits followed by '$'")]
    [InlineData("$2b$a4$" + BSalt + BDigest, true, "the bcrypt cost is not two decimal digits followed by '$'")]
    [InlineData("$2b$04#" + BSalt + BDigest, true, "the bcrypt cost is not two decimal digits followed by '$'")]
    [InlineData("$2b$03$" + BSalt + BDigest, true, "the bcrypt cost 3 is outside 4..31")]
    [InlineData("$2b$32$" + BSalt + BDigest, true, "the bcrypt cost 32 is outside 4..31")]
    [InlineData("$2b$04$+YGwcZr0uaoBVGRKlelBzu" + BDigest, true, "the bcrypt salt has a character outside the bcrypt base64 alphabet")]
    [InlineData("$2b$04$" + BSalt + "/S77TFLPxlWKFXLaowGWUlS0rKT1uI=", true, "the bcrypt digest has a character outside the bcrypt base64 alphabet")]
    public void Bcrypt_parser_names_each_problem(string text, bool requireDigest, string problem)
    {
        Assert.Equal(problem, BCryptFormat.TryParse(text, requireDigest, out _, out _, new byte[16]));
    }

    private const string Salt = "qaIyebt2wcqDXITMngnD1w";
    private const string Digest31 = "BU99VHNRznYMHZNcqyIYWnU2tMV3wKQ";
    private const string Digest43 = "RozFl80cp0Cvyhk5hKveFSOidLFD1s4lWoSjYgQib6g";

    [Theory]
    [InlineData("$hargon2$v=1$c=4$" + Salt + "$" + Digest31, "not a Hardening password hash")]
    [InlineData("$hbcrypt$v=1$c=4$" + Salt, "a Hardening password hash has six '$'-separated fields: $scheme$v=N$params$salt$digest")]
    [InlineData("$hbcrypt$v=1$c=4$" + Salt + "$" + Digest31 + "$", "a Hardening password hash has six '$'-separated fields: $scheme$v=N$params$salt$digest")]
    [InlineData("$hbcrypt$x=1$c=4$" + Salt + "$" + Digest31, "the version field is not 'v=' and a positive number")]
    [InlineData("$hbcrypt$v=$c=4$" + Salt + "$" + Digest31, "the version field is not 'v=' and a positive number")]
    [InlineData("$hbcrypt$v=0$c=4$" + Salt + "$" + Digest31, "the version field is not 'v=' and a positive number")]
    [InlineData("$hbcrypt$v=01$c=4$" + Salt + "$" + Digest31, "the version field is not 'v=' and a positive number")]
    [InlineData("$hbcrypt$v=1x$c=4$" + Salt + "$" + Digest31, "the version field is not 'v=' and a positive number")]
    [InlineData("$hbcrypt$v=1000$c=4$" + Salt + "$" + Digest31, "the version field is not 'v=' and a positive number")]
    [InlineData("$hbcrypt$v=2$c=4$" + Salt + "$" + Digest31, "version v=2 is newer than this library understands (v=1); upgrade Hardening.Auth")]
    [InlineData("$hbcrypt$v=999$c=4$" + Salt + "$" + Digest31, "version v=999 is newer than this library understands (v=1); upgrade Hardening.Auth")]
    [InlineData("$hbcrypt$v=1$c=4,k=1,x=1$" + Salt + "$" + Digest31, "the parameter field must be 'c=N' optionally followed by ',k=<pepper id>'")]
    [InlineData("$hpbkdf2-sha512$v=1$i=1,k=1,x=1$" + Salt + "$" + Digest43, "the parameter field must be 'i=N' optionally followed by ',k=<pepper id>'")]
    [InlineData("$hbcrypt$v=1$$" + Salt + "$" + Digest31, "a parameter is not 'name=value'")]
    [InlineData("$hbcrypt$v=1$c$" + Salt + "$" + Digest31, "a parameter is not 'name=value'")]
    [InlineData("$hbcrypt$v=1$c4$" + Salt + "$" + Digest31, "a parameter is not 'name=value'")]
    [InlineData("$hbcrypt$v=1$c=4,k$" + Salt + "$" + Digest31, "a parameter is not 'name=value'")]
    [InlineData("$hbcrypt$v=1$c=$" + Salt + "$" + Digest31, "the 'c' parameter is not a number of at most 2 digits")]
    [InlineData("$hbcrypt$v=1$c=100$" + Salt + "$" + Digest31, "the 'c' parameter is not a number of at most 2 digits")]
    [InlineData("$hbcrypt$v=1$c=1a$" + Salt + "$" + Digest31, "the 'c' parameter is not a number of at most 2 digits")]
    [InlineData("$hbcrypt$v=1$c=/4$" + Salt + "$" + Digest31, "the 'c' parameter is not a number of at most 2 digits")]
    [InlineData("$hpbkdf2-sha512$v=1$i=100000000$" + Salt + "$" + Digest43, "the 'i' parameter is not a number of at most 8 digits")]
    [InlineData("$hbcrypt$v=1$k=1$" + Salt + "$" + Digest31, "unexpected parameter 'k' (expected 'c=N' then an optional 'k=<pepper id>')")]
    [InlineData("$hbcrypt$v=1$k=1,c=4$" + Salt + "$" + Digest31, "unexpected parameter 'k' (expected 'c=N' then an optional 'k=<pepper id>')")]
    [InlineData("$hbcrypt$v=1$c=4,c=5$" + Salt + "$" + Digest31, "unexpected parameter 'c' (expected 'c=N' then an optional 'k=<pepper id>')")]
    [InlineData("$hbcrypt$v=1$c=0,c=5$" + Salt + "$" + Digest31, "unexpected parameter 'c' (expected 'c=N' then an optional 'k=<pepper id>')")]
    [InlineData("$hbcrypt$v=1$i=4$" + Salt + "$" + Digest31, "unexpected parameter 'i' (expected 'c=N' then an optional 'k=<pepper id>')")]
    [InlineData("$hpbkdf2-sha512$v=1$c=4$" + Salt + "$" + Digest43, "unexpected parameter 'c' (expected 'i=N' then an optional 'k=<pepper id>')")]
    [InlineData("$hbcrypt$v=1$c=4,k=$" + Salt + "$" + Digest31, "the pepper id is not 1-32 characters of A-Z a-z 0-9 . _ -")]
    [InlineData("$hbcrypt$v=1$c=4,k=a+b$" + Salt + "$" + Digest31, "the pepper id is not 1-32 characters of A-Z a-z 0-9 . _ -")]
    [InlineData("$hbcrypt$v=1$c=3$" + Salt + "$" + Digest31, "the bcrypt cost 3 is outside 4..20")]
    [InlineData("$hbcrypt$v=1$c=0$" + Salt + "$" + Digest31, "the bcrypt cost 0 is outside 4..20")]
    [InlineData("$hbcrypt$v=1$c=21$" + Salt + "$" + Digest31, "the bcrypt cost 21 is outside 4..20")]
    [InlineData("$hpbkdf2-sha512$v=1$i=0$" + Salt + "$" + Digest43, "the PBKDF2 iteration count 0 is outside 1..10000000")]
    [InlineData("$hpbkdf2-sha512$v=1$i=10000001$" + Salt + "$" + Digest43, "the PBKDF2 iteration count 10000001 is outside 1..10000000")]
    [InlineData("$hbcrypt$v=1$c=4$" + "qaIyebt2wcqDXITMngnD1" + "$" + Digest31, "the salt is not 22 characters of unpadded base64")]
    [InlineData("$hbcrypt$v=1$c=4$" + "qaIyebt2wcqDXITMngnD1x" + "$" + Digest31, "the salt is not 22 characters of unpadded base64")]
    [InlineData("$hbcrypt$v=1$c=4$" + Salt + "$" + Digest43, "the digest is not 31 characters of unpadded base64")]
    [InlineData("$hbcrypt$v=1$c=4$" + Salt + "$" + "BU99VHNRznYMHZNcqyIYWnU2tMV3wKR", "the digest is not 31 characters of unpadded base64")]
    [InlineData("$hpbkdf2-sha512$v=1$i=1$" + Salt + "$" + Digest31, "the digest is not 43 characters of unpadded base64")]
    public void Hardening_parser_names_each_problem(string text, string problem)
    {
        Assert.Equal(problem, PasswordHashFormat.TryParse(text, out var parsed));
        Assert.Equal(default, parsed);
    }

    [Fact]
    public void Hardening_parser_refuses_more_than_200_characters_and_says_how_many()
    {
        var text = "$hbcrypt$v=1$c=4,k=" + new string('k', 32) + "$" + Salt + "$" + Digest31;
        Assert.Null(PasswordHashFormat.TryParse(text, out _));
        Assert.Equal(
            "a Hardening password hash is at most 200 characters, this one has 201",
            PasswordHashFormat.TryParse(new string('$', 201), out _));
        Assert.Equal("not a Hardening password hash", PasswordHashFormat.TryParse(new string('$', 200), out _));
    }

    [Theory]
    [InlineData("$hbcrypt$v=1$c=4$" + Salt + "$" + Digest31, false, 4, null)]
    [InlineData("$hbcrypt$v=1$c=20,k=2026-11$" + Salt + "$" + Digest31, false, 20, "2026-11")]
    [InlineData("$hbcrypt$v=1$c=9,k=" + "abcdefghijklmnopqrstuvwxyz._-012" + "$" + Salt + "$" + Digest31, false, 9, "abcdefghijklmnopqrstuvwxyz._-012")]
    [InlineData("$hpbkdf2-sha512$v=1$i=1$" + Salt + "$" + Digest43, true, 1, null)]
    [InlineData("$hpbkdf2-sha512$v=1$i=10000000,k=Z$" + Salt + "$" + Digest43, true, 10_000_000, "Z")]
    [InlineData("$hpbkdf2-sha512$v=1$i=99999999$" + Salt + "$" + Digest43, true, -1, null)]
    public void Hardening_parser_reads_scheme_work_pepper_and_field_positions(string text, bool pbkdf2, int work, string? pepperId)
    {
        var scheme = pbkdf2 ? PasswordScheme.Pbkdf2Sha512 : PasswordScheme.BCrypt;
        var problem = PasswordHashFormat.TryParse(text, out var parsed);
        if (work < 0)
        {
            Assert.Equal("the PBKDF2 iteration count 99999999 is outside 1..10000000", problem);
            return;
        }

        Assert.Null(problem);
        Assert.Equal(scheme, parsed.Scheme);
        Assert.Equal(1, parsed.Version);
        Assert.Equal(work, parsed.Work);
        Assert.Equal(pepperId, parsed.PepperId);
        Assert.Equal(Salt, text[parsed.Salt]);
        Assert.Equal(scheme == PasswordScheme.BCrypt ? Digest31 : Digest43, text[parsed.Digest]);

        // Format writes the same string back.
        var salt = new byte[16];
        var digest = new byte[PasswordHashFormat.DigestSize(scheme)];
        Assert.True(PhcBase64.TryDecode(text[parsed.Salt], salt));
        Assert.True(PhcBase64.TryDecode(text[parsed.Digest], digest));
        Assert.Equal(text, PasswordHashFormat.Format(scheme, work, pepperId, salt, digest));
    }

    [Fact]
    public void Digest_sizes_are_23_bytes_for_bcrypt_and_32_for_pbkdf2()
    {
        Assert.Equal(23, PasswordHashFormat.DigestSize(PasswordScheme.BCrypt));
        Assert.Equal(32, PasswordHashFormat.DigestSize(PasswordScheme.Pbkdf2Sha512));
    }
}
