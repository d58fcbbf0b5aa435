using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Hardening.Auth;
using Microsoft.AspNetCore.Identity;
using BCryptNet = BCrypt.Net.BCrypt;

namespace Hardening.Auth.Tests.Passwords;

/// <summary>
/// Migration from BCrypt.Net-Next's <c>EnhancedHashPassword</c>: every stored hash here is made by BCrypt.Net-Next
/// 4.2.0 itself, so the expected interpretation comes from the library teams migrate from, not from our code.
/// </summary>
public sealed class BCryptNetEnhancedMigrationTests
{
    private static readonly PasswordHasher Enhanced = new(new PasswordHasherOptions { Cost = 4, LegacyBCryptFormat = LegacyBCryptFormat.BCryptNetEnhancedSha384 });
    private static readonly PasswordHasher Default = new(new PasswordHasherOptions { Cost = 4 });

    public sealed record Case(string Password, int Cost)
    {
        public override string ToString() =>
            $"password U+[{string.Join(' ', Password.EnumerateRunes().Select(r => r.Value.ToString("X4", CultureInfo.InvariantCulture)))}], cost {Cost}";
    }

    public static class Cases
    {
        private static readonly Gen<string> Char = Gen.Frequency(
            (6, Gen.Choose(0, 0x7F).Select(c => ((char)c).ToString())), // NUL included: the SHA-384 pre-hash carries it
            (3, Gen.Choose(0x80, 0x7FF).Select(c => ((char)c).ToString())),
            (2, Gen.Choose(0x800, 0xD7FF).Select(c => ((char)c).ToString())),
            (1, Gen.Choose(0x10000, 0x10FFFF).Select(char.ConvertFromUtf32)));

        public static Arbitrary<Case> Arbitrary() =>
            (from length in Gen.Frequency((3, Gen.Choose(0, 16)), (1, Gen.Choose(60, 200)))
             from parts in Gen.ArrayOf(Char, length)
             from cost in Gen.Choose(4, 5)
             select new Case(string.Concat(parts), cost)).ToArbitrary();
    }

    [Property(MaxTest = 100, Arbitrary = [typeof(Cases)])]
    public void Enhanced_hashes_verify_with_the_option_ask_for_a_rehash_and_fail_closed_without_it(Case c)
    {
        var legacy = BCryptNet.EnhancedHashPassword(c.Password, c.Cost);
        Assert.StartsWith("$2a$", legacy, StringComparison.Ordinal);

        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, Enhanced.Verify(c.Password, legacy));
        Assert.Equal(PasswordVerificationResult.Failed, Enhanced.Verify(c.Password + "\u00E9", legacy)); // the pre-hash sees every byte, past 72 too
        Assert.Equal(PasswordVerificationResult.Failed, Default.Verify(c.Password, legacy));

        var rehashed = Enhanced.Hash(c.Password);
        Assert.StartsWith("$hbcrypt$", rehashed, StringComparison.Ordinal);
        Assert.Equal(PasswordVerificationResult.Success, Enhanced.Verify(c.Password, rehashed));
    }

    [Theory]
    [InlineData("p\u00E4ssw\u00F6rd")]
    [InlineData("\u5BC6\u7801")]
    [InlineData("\uD83D\uDD11 key")]
    [InlineData("cafe\u0301")] // not normalised: BCrypt.Net-Next hashes the bytes as typed
    [InlineData("")]
    public void Non_ascii_enhanced_hashes_match_only_the_exact_code_points(string password)
    {
        var legacy = BCryptNet.EnhancedHashPassword(password, 4);
        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, Enhanced.Verify(password, legacy));
        var nfkc = password.Normalize(System.Text.NormalizationForm.FormKC);
        if (!string.Equals(nfkc, password, StringComparison.Ordinal))
        {
            Assert.Equal(PasswordVerificationResult.Failed, Enhanced.Verify(nfkc, legacy));
        }
    }

    [Fact]
    public void Enhanced_hashes_with_the_2b_prefix_verify_too()
    {
        var legacy = BCryptNet.HashPassword("s\u00E9same", BCryptNet.GenerateSalt(4, 'b'), enhancedEntropy: true);
        Assert.StartsWith("$2b$", legacy, StringComparison.Ordinal);
        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, Enhanced.Verify("s\u00E9same", legacy));
    }

    [Fact]
    public void Plain_bcrypt_hashes_fail_closed_in_enhanced_mode_and_verify_in_the_default_mode()
    {
        var plain = BCryptNet.HashPassword("correct horse", BCryptNet.GenerateSalt(4, 'a'));
        Assert.Equal(PasswordVerificationResult.Failed, Enhanced.Verify("correct horse", plain));
        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, Default.Verify("correct horse", plain));
    }

    [Fact]
    public void A_password_with_an_unpaired_surrogate_never_matches_an_enhanced_hash()
    {
        // BCrypt.Net-Next cannot hash it, and U+FFFD (what a lenient encoder would substitute) must not stand in for it.
        Assert.ThrowsAny<ArgumentException>(() => BCryptNet.EnhancedHashPassword("a\uD800", 4));
        var replacement = BCryptNet.EnhancedHashPassword("a\uFFFD", 4);
        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, Enhanced.Verify("a\uFFFD", replacement));
        Assert.Equal(PasswordVerificationResult.Failed, Enhanced.Verify("a\uD800", replacement));
    }

    [Fact]
    public void An_undefined_format_is_refused_naming_the_option()
    {
        var e = Assert.Throws<ArgumentException>(() => new PasswordHasher(new PasswordHasherOptions { LegacyBCryptFormat = (LegacyBCryptFormat)7 }));
        Assert.Contains("PasswordHasherOptions.LegacyBCryptFormat is 7", e.Message, StringComparison.Ordinal);
    }
}
