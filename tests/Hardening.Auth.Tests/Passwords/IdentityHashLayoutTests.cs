using System.Buffers.Binary;
using Hardening.Auth;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Logging.Testing;
using PasswordHasher = Hardening.Auth.PasswordHasher;
using PasswordHasherOptions = Hardening.Auth.PasswordHasherOptions;

namespace Hardening.Auth.Tests.Passwords;

/// <summary>
/// ASP.NET Identity V2/V3 hash layouts at their edges. The accepted vectors were built with Python:
/// <c>base64(0x01 | prf, iterations, salt length as big-endian uint32 | salt | hashlib.pbkdf2_hmac(prf, "pässwörd", salt, iterations, n))</c>
/// (V2: <c>0x00 | salt | pbkdf2_hmac("sha1", ..., 1000, 32)</c>), salt = bytes 1..16 (1..17 for the 17-byte salt).
/// </summary>
public sealed class IdentityHashLayoutTests
{
    private const string Password = "pässwörd";

    public static TheoryData<string, string> Accepted => new()
    {
        { "V2", "AAECAwQFBgcICQoLDA0ODxDkjCj4imv0x4JJBaQD0PQOujCgMGO21IZKa4kR6mVyig==" },
        { "V3 SHA-256, 1000 iterations, 16-byte subkey (the shortest)", "AQAAAAEAAAPoAAAAEAECAwQFBgcICQoLDA0ODxBel4MZCS2L548pSxW3qKnP" },
        { "V3 SHA-512, 1 iteration, 17-byte salt", "AQAAAAIAAAABAAAAEQECAwQFBgcICQoLDA0ODxARL6aFMkefCnI88hDp/ZsdcyF14UckMYGDI57mspwDkZs=" },
        { "V3 SHA-1, 2 iterations, 20-byte subkey", "AQAAAAAAAAACAAAAEAECAwQFBgcICQoLDA0ODxA4UeGdHooMnFqOZZwkdrtkJ09AtA==" },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void Python_built_hashes_verify_with_a_rehash_and_other_passwords_fail(string kind, string hash)
    {
        Assert.True(IdentityV2V3Hash.Verify(Password, hash, out var problem), kind);
        Assert.Null(problem);
        Assert.False(IdentityV2V3Hash.Verify("passwörd", hash, out problem), kind);
        Assert.Null(problem);
        var logger = new FakeLogger<PasswordHasher>();
        var hasher = new PasswordHasher(new PasswordHasherOptions { Cost = 4 }, logger);
        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, hasher.Verify(Password, hash));
        Assert.Equal(PasswordVerificationResult.Failed, hasher.Verify("Pässwörd", hash));
        Assert.Empty(logger.Collector.GetSnapshot()); // a wrong password is not an unusable hash
    }

    private static string V3(uint prf, uint iterations, uint saltLength, int bytesAfterHeader)
    {
        var bytes = new byte[13 + bytesAfterHeader];
        bytes[0] = 0x01;
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(1), prf);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(5), iterations);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(9), saltLength);
        return Convert.ToBase64String(bytes);
    }

    public static TheoryData<string, string> Unusable => new()
    {
        { V3(prf: 3, 1, 16, 48), "an ASP.NET Identity V3 hash names the unknown PRF 3" },
        { V3(prf: uint.MaxValue, 1, 16, 48), "an ASP.NET Identity V3 hash names the unknown PRF 4294967295" },
        { V3(2, iterations: 0, 16, 48), "an ASP.NET Identity V3 hash has 0 iterations, outside 1..10000000" },
        { V3(2, iterations: 10_000_001, 16, 48), "an ASP.NET Identity V3 hash has 10000001 iterations, outside 1..10000000" },
        { V3(2, 1, saltLength: 15, 48), "an ASP.NET Identity V3 hash has a salt shorter than 16 bytes or leaves less than 16 bytes of subkey" },
        { V3(2, 1, saltLength: 16, 31), "an ASP.NET Identity V3 hash has a salt shorter than 16 bytes or leaves less than 16 bytes of subkey" },
        { V3(2, 1, saltLength: uint.MaxValue, 48), "an ASP.NET Identity V3 hash has a salt shorter than 16 bytes or leaves less than 16 bytes of subkey" },
        { V3(2, 1, 16, bytesAfterHeader: 0), "an ASP.NET Identity V3 hash has a salt shorter than 16 bytes or leaves less than 16 bytes of subkey" }, // 13 bytes: a V3 header
        { V3(prf: 3, 1, 16, bytesAfterHeader: 0), "an ASP.NET Identity V3 hash names the unknown PRF 3" },
        { V3(2, iterations: 10_000_000, saltLength: 15, 48), "an ASP.NET Identity V3 hash has a salt shorter than 16 bytes or leaves less than 16 bytes of subkey" }, // the iteration limit passes
    };

    [Theory]
    [MemberData(nameof(Unusable))]
    public void Damaged_v3_headers_fail_closed_naming_the_field(string hash, string problem)
    {
        Assert.False(IdentityV2V3Hash.Verify(Password, hash, out var actual));
        Assert.Equal(problem, actual);
        var logger = new FakeLogger<PasswordHasher>();
        Assert.Equal(PasswordVerificationResult.Failed, new PasswordHasher(new PasswordHasherOptions { Cost = 4 }, logger).Verify(Password, hash));
        Assert.Equal(
            $"Password verification failed closed because the stored hash is unusable: {problem}.",
            Assert.Single(logger.Collector.GetSnapshot()).Message);
    }

    public static TheoryData<string, string> NotIdentity => new()
    {
        { "V2 marker, one byte short", Convert.ToBase64String(new byte[48]) },
        { "V2 marker, one byte long", Convert.ToBase64String(new byte[50]) },
        { "V3 marker, header cut at 12 bytes", Convert.ToBase64String([0x01, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]) },
        { "unknown marker 0x02", Convert.ToBase64String([0x02, .. new byte[48]]) },
        { "not base64", "not*base64" },
        { "base64 of nothing but padding", "====" },
        { "one space: base64 of no bytes", " " },
        { "tab, CR, LF and space: base64 of no bytes", "\t\r\n " },
    };

    [Theory]
    [MemberData(nameof(NotIdentity))]
    public void Strings_that_are_not_identity_layouts_are_not_read_as_identity_hashes(string kind, string hash)
    {
        Assert.Null(IdentityV2V3Hash.Verify(Password, hash, out var problem));
        Assert.Null(problem);
        var logger = new FakeLogger<PasswordHasher>();
        Assert.Equal(PasswordVerificationResult.Failed, new PasswordHasher(new PasswordHasherOptions { Cost = 4 }, logger).Verify(Password, hash));
        Assert.Equal(
            "Password verification failed closed because the stored hash is unusable: unknown format (not a Hardening '$hbcrypt$'/'$hpbkdf2-sha512$' hash, plain bcrypt or ASP.NET Identity V2/V3).",
            Assert.Single(logger.Collector.GetSnapshot()).Message);
        _ = kind;
    }
}
