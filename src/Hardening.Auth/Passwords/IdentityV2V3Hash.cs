using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Hardening.Auth;

/// <summary>
/// Verifies hashes written by ASP.NET Core Identity's <c>PasswordHasher&lt;TUser&gt;</c>, from its documented
/// layout (base64 of):
/// V2: <c>0x00 | salt(16) | subkey(32)</c>, PBKDF2-HMAC-SHA1, 1000 iterations.
/// V3: <c>0x01 | prf(uint32 BE: 0 SHA1, 1 SHA256, 2 SHA512) | iterations(uint32 BE) | salt length(uint32 BE) | salt | subkey</c>.
/// The password is UTF-8 encoded, as Identity does.
/// </summary>
internal static class IdentityV2V3Hash
{
    /// <summary>Null when <paramref name="hash"/> is not base64 of a V2/V3 layout (then it is not an Identity hash).</summary>
    public static bool? Verify(string password, string hash, out string? problem)
    {
        problem = null;
        Span<byte> decoded = stackalloc byte[(hash.Length / 4 * 3) + 3];
        if (!Convert.TryFromBase64String(hash, decoded, out var length) || length == 0)
        {
            return null;
        }

        decoded = decoded[..length];
        HashAlgorithmName prf;
        int iterations;
        scoped ReadOnlySpan<byte> salt;
        scoped ReadOnlySpan<byte> subkey;
        if (decoded[0] == 0x00 && length == 49)
        {
            prf = HashAlgorithmName.SHA1;
            iterations = 1000;
            salt = decoded.Slice(1, 16);
            subkey = decoded.Slice(17, 32);
        }
        else if (decoded[0] == 0x01 && length >= 13)
        {
            var prfId = BinaryPrimitives.ReadUInt32BigEndian(decoded[1..]);
            var iter = BinaryPrimitives.ReadUInt32BigEndian(decoded[5..]);
            var saltLength = BinaryPrimitives.ReadUInt32BigEndian(decoded[9..]);
            if (prfId > 2)
            {
                problem = $"an ASP.NET Identity V3 hash names the unknown PRF {prfId}";
                return false;
            }

            if (iter is < 1 or > PasswordHasherOptions.MaxPbkdf2Iterations)
            {
                problem = $"an ASP.NET Identity V3 hash has {iter} iterations, outside 1..{PasswordHasherOptions.MaxPbkdf2Iterations}";
                return false;
            }

            if (saltLength < 16 || saltLength > length - 13 - 16)
            {
                problem = "an ASP.NET Identity V3 hash has a salt shorter than 16 bytes or leaves less than 16 bytes of subkey";
                return false;
            }

            prf = prfId switch { 0 => HashAlgorithmName.SHA1, 1 => HashAlgorithmName.SHA256, _ => HashAlgorithmName.SHA512 };
            iterations = (int)iter;
            salt = decoded.Slice(13, (int)saltLength);
            subkey = decoded[(13 + (int)saltLength)..];
        }
        else
        {
            return null;
        }

        var max = Encoding.UTF8.GetMaxByteCount(password.Length);
        var rented = ArrayPool<byte>.Shared.Rent(max);
        var derived = ArrayPool<byte>.Shared.Rent(subkey.Length);
        try
        {
            var n = Encoding.UTF8.GetBytes(password, rented);
            var actual = derived.AsSpan(0, subkey.Length);
            Rfc2898DeriveBytes.Pbkdf2(rented.AsSpan(0, n), salt, actual, iterations, prf);
            return CryptographicOperations.FixedTimeEquals(actual, subkey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(rented);
            CryptographicOperations.ZeroMemory(derived);
            ArrayPool<byte>.Shared.Return(rented);
            ArrayPool<byte>.Shared.Return(derived);
        }
    }
}
