using System.Text;
using Hardening.Auth;
using Microsoft.AspNetCore.Identity;
using BCryptNet = BCrypt.Net.BCrypt;
using PasswordHasher = Hardening.Auth.PasswordHasher;
using PasswordHasherOptions = Hardening.Auth.PasswordHasherOptions;

namespace Hardening.Auth.Tests.Passwords;

/// <summary>
/// How a stored plain bcrypt hash is keyed, at cost 4 and a handful of hashes: the plain key at bcrypt's 72-byte edge
/// (stored hashes from libxcrypt) and BCrypt.Net-Next's enhanced key (a Python vector,
/// <c>base64.b64encode(hashlib.sha384("pässwörd".encode()).digest())</c>, and hashes from BCrypt.Net-Next itself).
/// </summary>
public sealed class LegacyBCryptKeyTests
{
    private const string Setting = "$2b$04$abcdefghijklmnopqrstuu";

    private static PasswordHasher Hasher(LegacyBCryptFormat format = LegacyBCryptFormat.Plain) =>
        new(new PasswordHasherOptions { Cost = 4, LegacyBCryptFormat = format });

    [Fact]
    public void The_enhanced_key_is_the_ascii_of_base64_sha384_of_utf8()
    {
        var key = new byte[BCryptNetEnhancedKey.Size];
        Assert.True(BCryptNetEnhancedKey.TryCompute("pässwörd", key));
        Assert.Equal("geR2CYCBTPOLgGmaHaYZ1wbatWbqPXZX9b2wQ4qiyTFKzybjcgEjJMc4WARyDMcz", Encoding.ASCII.GetString(key));
        Assert.Equal(64, BCryptNetEnhancedKey.Size);
    }

    [Theory]
    [InlineData(0xD800, false)] // "a" + lone high surrogate (built here: xunit would replace it in attribute data)
    [InlineData(0xDC00, true)] // lone low surrogate + "b"
    public void A_lone_surrogate_has_no_enhanced_key(int surrogate, bool first)
    {
        var password = first ? (char)surrogate + "b" : "a" + (char)surrogate;
        var key = new byte[BCryptNetEnhancedKey.Size];
        Assert.False(BCryptNetEnhancedKey.TryCompute(password, key));
        Assert.All(key, b => Assert.Equal(0, b));
        var stored = BCryptNet.EnhancedHashPassword("a?", 4);
        Assert.Equal(PasswordVerificationResult.Failed, Hasher(LegacyBCryptFormat.BCryptNetEnhancedSha384).Verify(password, stored));
    }

    [Fact]
    public void Enhanced_hashes_verify_only_in_enhanced_mode_and_plain_ones_only_in_plain_mode()
    {
        var enhanced = BCryptNet.EnhancedHashPassword("pässwörd", 4);
        var plain = LibXCrypt.Crypt(Encoding.UTF8.GetBytes("pässwörd"), Setting)!;
        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, Hasher(LegacyBCryptFormat.BCryptNetEnhancedSha384).Verify("pässwörd", enhanced));
        Assert.Equal(PasswordVerificationResult.Failed, Hasher(LegacyBCryptFormat.BCryptNetEnhancedSha384).Verify("passwörd", enhanced));
        Assert.Equal(PasswordVerificationResult.Failed, Hasher().Verify("pässwörd", enhanced));
        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, Hasher().Verify("pässwörd", plain));
        Assert.Equal(PasswordVerificationResult.Failed, Hasher(LegacyBCryptFormat.BCryptNetEnhancedSha384).Verify("pässwörd", plain));

        // Enhanced keys have no NUL problem: the key is base64.
        var withNul = BCryptNet.EnhancedHashPassword("a\0b", 4);
        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, Hasher(LegacyBCryptFormat.BCryptNetEnhancedSha384).Verify("a\0b", withNul));
        Assert.Equal(PasswordVerificationResult.Failed, Hasher(LegacyBCryptFormat.BCryptNetEnhancedSha384).Verify("a", withNul));
    }

    public static TheoryData<string, string, string> Plain72 => new()
    {
        // stored password, presented password, expected result
        { new string('k', 72), new string('k', 72) + "tail", "SuccessRehashNeeded" }, // bytes after 72 do not count
        { new string('k', 72), new string('k', 71), "Failed" },
        { new string('k', 71) + "x", new string('k', 71) + "y", "Failed" }, // the 72nd byte counts
        { new string('k', 71) + "é", new string('k', 71) + "è", "SuccessRehashNeeded" }, // C3 A9 / C3 A8: only C3 is in the key
        { new string('k', 70) + "é", new string('k', 70) + "è", "Failed" }, // split at 70 both bytes are in it
        { "\u4E2D" + new string('k', 69), "\u4E2D" + new string('k', 69) + "zz", "SuccessRehashNeeded" }, // 3 + 69 = 72 bytes
    };

    [Theory]
    [MemberData(nameof(Plain72))]
    public void Plain_keys_are_the_first_72_utf8_bytes(string stored, string presented, string expected)
    {
        var hash = LibXCrypt.Crypt(Encoding.UTF8.GetBytes(stored).AsSpan(0, Math.Min(72, Encoding.UTF8.GetByteCount(stored))), Setting)!;
        Assert.Equal(Enum.Parse<PasswordVerificationResult>(expected), Hasher().Verify(presented, hash));
    }

    [Theory]
    [InlineData('\u20AC', 80)] // 3 UTF-8 bytes per character: the longest text the 72-byte cut reads (73 characters, 219 bytes)
    [InlineData('\u00E9', 80)] // 2 bytes
    [InlineData('a', 200)]
    public void Plain_hashes_of_long_passwords_of_multibyte_characters_verify_and_only_the_first_72_bytes_count(char c, int length)
    {
        var password = new string(c, length);
        var theirs = BCryptNet.HashPassword(password, BCryptNet.GenerateSalt(4, 'b')); // the independent implementation
        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, Hasher().Verify(password, theirs));
        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, Hasher().Verify(password + "ignored tail", theirs));
        var bytes = Encoding.UTF8.GetByteCount(c.ToString());
        var changedInside = password[..((71 / bytes) - 1)] + "#" + password[(71 / bytes)..];
        Assert.Equal(PasswordVerificationResult.Failed, Hasher().Verify(changedInside, theirs));
    }
}
