using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Hardening.Auth;

/// <summary>
/// A short, stable pseudonym of an identifier (subject, jti, account) for security logs: never the value itself.
/// It is a plain SHA-256 prefix, so it correlates log lines but does not hide a guessable identifier from someone
/// who can enumerate candidates.
/// </summary>
internal static class Fingerprint
{
    public static string Of(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "-";
        }

        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        byte[]? rented = null;
        var buffer = max <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var n = Encoding.UTF8.GetBytes(value, buffer);
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(buffer[..n], hash);
            return Convert.ToHexStringLower(hash[..8]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
