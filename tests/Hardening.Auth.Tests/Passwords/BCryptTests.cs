using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Hardening.Auth;

namespace Hardening.Auth.Tests.Passwords;

public sealed class BCryptTests
{
    private static byte[] B(string latin1) => Encoding.Latin1.GetBytes(latin1);

    private static byte[] Repeat(string latin1, int times) => B(string.Concat(Enumerable.Repeat(latin1, times)));

    // Openwall crypt_blowfish wrapper.c test table (public domain); passwords are bytes (\xNN = one byte).
    public static TheoryData<string, byte[]> Openwall => new()
    {
        { "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", B("U*U") },
        { "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK", B("U*U*") },
        { "$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a", B("U*U*U") },
        { "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui", B("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789chars after 72 are ignored") },
        { "$2y$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e", B("\xff\xff\xa3") },
        { "$2a$05$/OK.fbVrR/bpIqNJ5ianF.nqd1wy.pTMdcvrRWxyiGL2eMz.2a85.", B("\xff\xff\xa3") },
        { "$2b$05$/OK.fbVrR/bpIqNJ5ianF.CE5elHaaO4EbggVDjb8P19RukzXSM3e", B("\xff\xff\xa3") },
        { "$2y$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq", B("\xa3") },
        { "$2a$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq", B("\xa3") },
        { "$2b$05$/OK.fbVrR/bpIqNJ5ianF.Sa7shbm4.OzKpvFnX1pQLmQW96oUlCq", B("\xa3") },
        { "$2y$05$/OK.fbVrR/bpIqNJ5ianF.o./n25XVfn6oAPaUvHe.Csk4zRfsYPi", B("\xff\xa3" + "34\xff\xff\xff\xa3" + "345") },
        { "$2a$05$/OK.fbVrR/bpIqNJ5ianF.ZC1JEJ8Z4gPfpe1JOr/oyPXTWl9EFd.", B("\xff\xa3" + "34\xff\xff\xff\xa3" + "345") },
        { "$2y$05$/OK.fbVrR/bpIqNJ5ianF.nRht2l/HRhr6zmCp9vYUvvsqynflf9e", B("\xff\xa3" + "345") },
        { "$2a$05$/OK.fbVrR/bpIqNJ5ianF.nRht2l/HRhr6zmCp9vYUvvsqynflf9e", B("\xff\xa3" + "345") },
        { "$2a$05$/OK.fbVrR/bpIqNJ5ianF.6IflQkJytoRVc1yuaNtHfiuq.FRlSIS", B("\xa3" + "ab") },
        { "$2y$05$/OK.fbVrR/bpIqNJ5ianF.6IflQkJytoRVc1yuaNtHfiuq.FRlSIS", B("\xa3" + "ab") },
        { "$2a$05$/OK.fbVrR/bpIqNJ5ianF.swQOIzjOiJ9GHEPuhEkvqrUyvWhEMx6", B(new string('\xaa', 72) + "chars after 72 are ignored as usual") },
        { "$2a$05$/OK.fbVrR/bpIqNJ5ianF.R9xrDjiycxMbQE2bp.vgqlYpW5wx2yy", Repeat("\xaa\x55", 36) },
        { "$2a$05$/OK.fbVrR/bpIqNJ5ianF.9tQZzcJfm3uj2NvJ/n5xkhpqLrMpWCe", Repeat("\x55\xaa\xff", 24) },
        { "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy", B("") },
    };

    // OpenBSD-lineage vectors (Damien Miller's jBCrypt TestBCrypt, also in BCrypt.Net), costs 6-10 to stay fast.
    public static TheoryData<string, string> OpenBsd => new()
    {
        { "$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.", "" },
        { "$2a$08$HqWuK6/Ng6sg9gQzbLrgb.Tl.ZHfXLhvt/SgVyWhQqgqcZ7ZuUtye", "" },
        { "$2a$10$k1wbIrmNyFAPwPVPSVa/zecw2BCEnBwVS2GbrmgzxFUOqW9dk4TCW", "" },
        { "$2a$06$m0CrhHm10qJ3lXRY.5zDGO3rS2KdeeWLuGmsfGlMfOxih58VYVfxe", "a" },
        { "$2a$08$cfcvVd2aQ8CMvoMpP2EBfeodLEkkFJ9umNEfPD18.hUF62qqlC/V.", "a" },
        { "$2a$10$k87L/MF28Q673VKh8/cPi.SUl7MU/rWuSiIDDFayrKk/1tBsSQu4u", "a" },
        { "$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i", "abc" },
        { "$2a$08$Ro0CUfOqk6cXEKf3dyaM7OhSCvnwM9s4wIX9JeLapehKK5YdLxKcm", "abc" },
        { "$2a$10$WvvTPHKwdBJ3uk0Z37EMR.hLA2W6N9AEBhEgrAOljy2Ae5MtaSIUi", "abc" },
        { "$2a$06$.rCVZVOThsIa97pEDOxvGuRRgzG64bvtJ0938xuqzv18d3ZpQhstC", "abcdefghijklmnopqrstuvwxyz" },
        { "$2a$08$aTsUwsyowQuzRrDqFflhgekJ8d9/7Z3GV3UcgvzQW3J5zMyrTvlz.", "abcdefghijklmnopqrstuvwxyz" },
        { "$2a$10$fVH8e28OQRj9tqiDXs1e1uxpsjN0c7II7YPKXua2NAKYvM6iQk7dq", "abcdefghijklmnopqrstuvwxyz" },
        { "$2a$06$fPIsBO8qRqkjj273rfaOI.HtSV9jLDpTbZn782DC6/t7qT67P6FfO", "~!@#$%^&*()      ~!@#$%^&*()PNBFRD" },
        { "$2a$08$Eq2r4G/76Wv39MzSX262huzPz612MZiYHVUJe/OcOql2jo4.9UxTW", "~!@#$%^&*()      ~!@#$%^&*()PNBFRD" },
        { "$2a$10$LgfYWkbzEvQ4JakH7rOvHe0y8pHKF9OaFgwUZ2q7W2FFZmZzJYlfS", "~!@#$%^&*()      ~!@#$%^&*()PNBFRD" },
        { "$2b$04$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcie", "correctbatteryhorsestapler" },
        { "$2a$05$......................YgIDy4hFBdVlc/6LHnD9mX488r9cLd2", new string('x', 100) },
    };

    private static string Crypt(byte[] password, string settingOrHash)
    {
        Span<byte> salt = stackalloc byte[BCrypt.SaltSize];
        var problem = BCryptFormat.TryParse(settingOrHash.AsSpan(0, BCryptFormat.SettingLength), requireDigest: false, out var minor, out var cost, salt);
        Assert.Null(problem);
        Span<byte> digest = stackalloc byte[BCrypt.HashSize];
        BCrypt.Hash(password, salt, cost, minor, digest);
        return BCryptFormat.Format(minor, cost, salt, digest);
    }

    [Theory]
    [MemberData(nameof(Openwall))]
    public void Openwall_crypt_blowfish_vectors_match(string expected, byte[] password) =>
        Assert.Equal(expected, Crypt(password, expected));

    [Theory]
    [MemberData(nameof(Openwall))]
    public void Openwall_vectors_also_match_the_system_libxcrypt(string expected, byte[] password) =>
        Assert.Equal(expected, LibXCrypt.Crypt(password, expected));

    [Theory]
    [MemberData(nameof(OpenBsd))]
    public void OpenBsd_lineage_vectors_match(string expected, string password) =>
        Assert.Equal(expected, Crypt(Encoding.UTF8.GetBytes(password), expected));

    [Fact]
    public void Openwall_2a_safety_measure_makes_2a_differ_from_2b_for_the_sign_extension_case()
    {
        var password = B("\xff\xff\xa3");
        Assert.NotEqual(Crypt(password, "$2a$05$/OK.fbVrR/bpIqNJ5ianF.")[29..], Crypt(password, "$2b$05$/OK.fbVrR/bpIqNJ5ianF.")[29..]);
    }

    [Theory]
    [InlineData("$2a$03$CCCCCCCCCCCCCCCCCCCCC.", "cost 3")]
    [InlineData("$2a$32$CCCCCCCCCCCCCCCCCCCCC.", "cost 32")]
    [InlineData("$2c$05$CCCCCCCCCCCCCCCCCCCCC.", "unknown bcrypt version")]
    [InlineData("$2z$05$CCCCCCCCCCCCCCCCCCCCC.", "unknown bcrypt version")]
    [InlineData("$2`$05$CCCCCCCCCCCCCCCCCCCCC.", "unknown bcrypt version")]
    [InlineData("$2{$05$CCCCCCCCCCCCCCCCCCCCC.", "unknown bcrypt version")]
    [InlineData("*0", "not a bcrypt hash")]
    [InlineData("$2b$05$CCCCCCCCCCCCCCCCCCCC!.", "alphabet")]
    [InlineData("$2b$5$CCCCCCCCCCCCCCCCCCCCC..", "two decimal digits")]
    [InlineData("$2x$05$/OK.fbVrR/bpIqNJ5ianF.", "sign-extension bug")]
    public void Invalid_settings_are_refused_with_the_reason(string setting, string reason)
    {
        Span<byte> salt = stackalloc byte[BCrypt.SaltSize];
        var problem = BCryptFormat.TryParse(setting, requireDigest: false, out _, out _, salt);
        Assert.NotNull(problem);
        Assert.Contains(reason, problem, StringComparison.Ordinal);
        if (!setting.StartsWith("$2x$", StringComparison.Ordinal))
        {
            Assert.Null(LibXCrypt.Crypt("x"u8, setting)); // libxcrypt refuses them too
        }
    }

    [Property(MaxTest = 200)]
    public Property Output_equals_libxcrypt_byte_for_byte_for_random_passwords_salts_and_costs()
    {
        var password = Gen.Choose(0, 100).SelectMany(n => Gen.ArrayOf(Gen.Choose(1, 255).Select(b => (byte)b), n));
        var salt = Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), BCrypt.SaltSize);
        var cost = Gen.Choose(4, 6);
        return Prop.ForAll(password.ToArbitrary(), salt.ToArbitrary(), cost.ToArbitrary(), (pw, s, c) =>
        {
            var setting = BCryptFormat.Format(BCryptMinor.B, c, s, new byte[BCrypt.HashSize])[..BCryptFormat.SettingLength];
            var expected = LibXCrypt.Crypt(pw, setting);
            Assert.NotNull(expected);
            Assert.Equal(expected, Crypt(pw, setting));
        });
    }

    [Fact]
    public void Key_bytes_after_72_and_after_a_nul_are_ignored_as_crypt3_does()
    {
        var salt = new byte[BCrypt.SaltSize];
        Span<byte> a = stackalloc byte[BCrypt.HashSize];
        Span<byte> b = stackalloc byte[BCrypt.HashSize];
        BCrypt.Hash(Repeat("k", 72), salt, 4, BCryptMinor.B, a);
        BCrypt.Hash(Repeat("k", 100), salt, 4, BCryptMinor.B, b);
        Assert.True(a.SequenceEqual(b));
        BCrypt.Hash("abc"u8, salt, 4, BCryptMinor.B, a);
        BCrypt.Hash("abc\0def"u8, salt, 4, BCryptMinor.B, b);
        Assert.True(a.SequenceEqual(b));
    }

    [Fact]
    public void Bad_arguments_throw_naming_the_parameter()
    {
        var digest = new byte[BCrypt.HashSize];
        Assert.Equal("salt", Assert.Throws<ArgumentException>(() => BCrypt.Hash("x"u8, new byte[15], 4, BCryptMinor.B, digest)).ParamName);
        Assert.Equal("cost", Assert.Throws<ArgumentOutOfRangeException>(() => BCrypt.Hash("x"u8, new byte[16], 3, BCryptMinor.B, digest)).ParamName);
        Assert.Equal("cost", Assert.Throws<ArgumentOutOfRangeException>(() => BCrypt.Hash("x"u8, new byte[16], 32, BCryptMinor.B, digest)).ParamName);
    }

    [Fact]
    public void Initial_state_is_the_hexadecimal_digits_of_pi()
    {
        var words = BlowfishInitialState.Words;
        Assert.Equal(1042, words.Length);
        Assert.Equal(0x243F6A88u, words[0]);
        Assert.Equal(0x8979FB1Bu, words[17]);
        Assert.Equal(0xD1310BA6u, words[18]);
        Assert.Equal(0x3AC372E6u, words[^1]);
    }
}
