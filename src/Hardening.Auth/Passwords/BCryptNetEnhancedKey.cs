using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Hardening.Auth;

/// <summary>The bcrypt key of BCrypt.Net-Next's enhanced hashes: the ASCII of base64(SHA-384(UTF-8(password))).</summary>
internal static class BCryptNetEnhancedKey
{
    public const int Size = 64;

    /// <summary>Writes the 64-byte key; false when the password has an unpaired surrogate (it has no UTF-8 form).</summary>
    public static bool TryCompute(string password, Span<byte> destination)
    {
        if (!PasswordPreHash.IsWellFormed(password))
        {
            return false;
        }

        var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(password.Length));
        Span<byte> digest = stackalloc byte[SHA384.HashSizeInBytes];
        try
        {
            var n = Encoding.UTF8.GetBytes(password, rented);
            SHA384.HashData(rented.AsSpan(0, n), digest);
            Base64.EncodeToUtf8(digest, destination, out _, out var written);
            return written == Size;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(digest);
            CryptographicOperations.ZeroMemory(rented);
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
