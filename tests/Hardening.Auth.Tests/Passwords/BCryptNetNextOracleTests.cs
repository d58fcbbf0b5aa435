using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Hardening.Auth;
using Microsoft.AspNetCore.Identity;
using BCryptNet = BCrypt.Net.BCrypt;

namespace Hardening.Auth.Tests.Passwords;

/// <summary>
/// BCrypt.Net-Next 4.2.0 (a port of jBCrypt, independent of our core and of libxcrypt) as a second differential oracle.
/// What is compared, precisely: the bcrypt core on the same key bytes and the same <c>$2a$</c>/<c>$2b$</c> setting.
/// BCrypt.Net-Next keys bcrypt with <c>UTF-8(password) + NUL</c> and cycles it, so only the first 72 bytes count; our
/// core reads the key as a C string (NUL-terminated) and cycles it the same way. For a password without NUL the two
/// key schedules are byte-identical, including passwords of 72 bytes and more (both use the first 72) and non-ASCII
/// ones (every byte of a multi-byte UTF-8 sequence has the high bit set: the 8-bit bytes of the sign-extension bug).
/// The generated passwords therefore have no NUL (BCrypt.Net-Next keys past an embedded NUL, crypt(3) stops at it: a
/// documented difference, and <see cref="PasswordHasher"/> refuses NUL for plain bcrypt) and no lone surrogate
/// (BCrypt.Net-Next throws on it). Arbitrary, non-UTF-8 byte strings are compared with libxcrypt in <see cref="BCryptTests"/>.
/// <c>$2a$</c> equals <c>$2b$</c> for these keys: crypt_blowfish's <c>$2a$</c> safety measure only changes keys whose
/// sign-extended bytes leave the key unchanged, which needs a 0xFF byte or a lone high-bit byte at a word start, and
/// UTF-8 never has either.
/// </summary>
public sealed class BCryptNetNextOracleTests
{
    public sealed record Case(string Password, byte[] Salt, int Cost, char Minor)
    {
        public override string ToString() =>
            $"password U+[{string.Join(' ', Password.EnumerateRunes().Select(r => r.Value.ToString("X4", System.Globalization.CultureInfo.InvariantCulture)))}] ({Encoding.UTF8.GetByteCount(Password)} bytes), cost {Cost}, $2{Minor}$, salt {Convert.ToHexString(Salt)}";
    }

    public static class Cases
    {
        // ASCII (1 byte), Latin-1 supplement (2 bytes, the 8-bit range), other BMP (3 bytes), astral (4 bytes, a surrogate pair).
        private static readonly Gen<string> Char = Gen.Frequency(
            (6, Gen.Choose(1, 0x7F).Select(c => ((char)c).ToString())),
            (3, Gen.Choose(0x80, 0xFF).Select(c => ((char)c).ToString())),
            (2, Gen.Choose(0x100, 0xD7FF).Select(c => ((char)c).ToString())),
            (1, Gen.Choose(0x10000, 0x10FFFF).Select(char.ConvertFromUtf32)));

        public static Arbitrary<Case> Arbitrary() =>
            (from length in Gen.Frequency((3, Gen.Choose(0, 20)), (2, Gen.Choose(21, 80)))
             from parts in Gen.ArrayOf(Char, length)
             from salt in Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), BCrypt.SaltSize)
             from cost in Gen.Choose(4, 5)
             from minor in Gen.Elements('a', 'b')
             select new Case(string.Concat(parts), salt, cost, minor)).ToArbitrary();
    }

    private static BCryptMinor Minor(char c) => c == 'a' ? BCryptMinor.A : BCryptMinor.B;

    private static string OurCore(string password, string setting)
    {
        Span<byte> salt = stackalloc byte[BCrypt.SaltSize];
        Assert.Null(BCryptFormat.TryParse(setting, requireDigest: false, out var minor, out var cost, salt));
        Span<byte> digest = stackalloc byte[BCrypt.HashSize];
        BCrypt.Hash(Encoding.UTF8.GetBytes(password), salt, cost, minor, digest);
        return BCryptFormat.Format(minor, cost, salt, digest);
    }

    private static string Setting(Case c) =>
        BCryptFormat.Format(Minor(c.Minor), c.Cost, c.Salt, new byte[BCrypt.HashSize])[..BCryptFormat.SettingLength];

    [Property(MaxTest = 150, Arbitrary = [typeof(Cases)])]
    public void Our_core_and_BCryptNet_produce_the_same_hash_string_for_the_same_setting(Case c)
    {
        var setting = Setting(c);
        Assert.Equal(BCryptNet.HashPassword(c.Password, setting), OurCore(c.Password, setting));
    }

    [Property(MaxTest = 100, Arbitrary = [typeof(Cases)])]
    public void Hashes_of_our_core_verify_in_BCryptNet_and_BCryptNet_hashes_verify_in_PasswordHasher(Case c)
    {
        var ours = OurCore(c.Password, Setting(c));
        Assert.True(BCryptNet.Verify(c.Password, ours), $"BCrypt.Net-Next rejects our {ours}");
        Assert.False(BCryptNet.Verify("#" + c.Password, ours), "BCrypt.Net-Next accepts a different password");

        var theirs = BCryptNet.HashPassword(c.Password, BCryptNet.GenerateSalt(c.Cost, c.Minor));
        var hasher = new PasswordHasher(new PasswordHasherOptions { Cost = c.Cost });
        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, hasher.Verify(c.Password, theirs));
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("#" + c.Password, theirs));
    }

    [Fact]
    public void Both_ignore_key_bytes_after_the_72nd_and_agree_on_where_that_cut_falls_in_a_multibyte_character()
    {
        // 35 x U+00E9 is 70 bytes; the euro sign (3 bytes) then straddles byte 72, so only its first two bytes count.
        var straddling = new string('\u00E9', 35) + "\u20AC";
        var setting = "$2b$04$" + "abcdefghijklmnopqrstuu";
        var cut = OurCore(straddling, setting);
        Assert.Equal(BCryptNet.HashPassword(straddling, setting), cut);
        Assert.Equal(cut, OurCore(straddling + "tail", setting));
        Assert.Equal(cut, BCryptNet.HashPassword(straddling + "tail", setting));

        // U+20AD is E2 82 AD: the same first two bytes, so the same 72-byte key; U+2100 is E2 84 80: a different one.
        Assert.Equal(cut, OurCore(new string('\u00E9', 35) + "\u20AD", setting));
        Assert.Equal(cut, BCryptNet.HashPassword(new string('\u00E9', 35) + "\u20AD", setting));
        Assert.NotEqual(cut, OurCore(new string('\u00E9', 35) + "\u2100", setting));
        Assert.NotEqual(cut, BCryptNet.HashPassword(new string('\u00E9', 35) + "\u2100", setting));
    }
}
