using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Hardening.Auth;

/// <summary>
/// The keyed pre-hash: base64(HMAC-SHA384(pepper, UTF-8(NFKC(password)))). Its 64 ASCII bytes never contain NUL
/// and fit bcrypt's 72-byte key, so nothing is truncated; the key stops "password shucking" with leaked unkeyed hashes.
/// </summary>
internal static class PasswordPreHash
{
    public const int MacSize = 48;
    public const int EncodedSize = 64;

    /// <summary>The HMAC key used when no pepper is configured: public, so it only separates domains.</summary>
    public static ReadOnlySpan<byte> DomainKey => "Hardening.Auth.Passwords/v1 no pepper configured"u8;

    /// <summary>Writes the 64 base64 characters of the pre-hash, as ASCII bytes, into <paramref name="destination"/>.</summary>
    public static void Compute(string password, ReadOnlySpan<byte> key, Span<byte> destination)
    {
        var text = Normalize(password);
        var max = text.Length * 3;
        byte[]? rented = null;
        var buffer = max <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(max));
        Span<byte> mac = stackalloc byte[MacSize];
        try
        {
            var length = EncodeUtf8(text, buffer);
            HMACSHA384.HashData(key, buffer[..length], mac);
            System.Buffers.Text.Base64.EncodeToUtf8(mac, destination, out _, out var written);
            if (written != EncodedSize)
            {
                throw new InvalidOperationException("Unreachable: 48 bytes always encode to 64 base64 characters.");
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(mac);
            CryptographicOperations.ZeroMemory(buffer);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// NFKC (NIST SP 800-63B) for well-formed text. Text with a lone surrogate cannot be normalised and is used as
    /// is; its encoding (below) keeps it apart from every well-formed string. .NET (ICU) also refuses to normalise
    /// well-formed text that contains the noncharacter U+FFFE (ArgumentException): that text is used as is too.
    /// </summary>
    internal static string Normalize(string password)
    {
        if (!IsWellFormed(password))
        {
            return password;
        }

        try
        {
            return password.Normalize(NormalizationForm.FormKC);
        }
        catch (ArgumentException)
        {
            return password;
        }
    }

    internal static bool IsWellFormed(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]))
                {
                    return false;
                }

                i++;
            }
            else if (char.IsLowSurrogate(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// UTF-8, except that a lone surrogate is written as its own 3-byte sequence (as WTF-8 does) instead of being
    /// replaced by U+FFFD: lossless, so two different inputs never share bytes.
    /// </summary>
    internal static int EncodeUtf8(ReadOnlySpan<char> text, Span<byte> destination)
    {
        var d = 0;
        for (var i = 0; i < text.Length; i++)
        {
            int cp = text[i];
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                cp = char.ConvertToUtf32(text[i], text[i + 1]);
                i++;
            }

            if (cp < 0x80)
            {
                destination[d++] = (byte)cp;
            }
            else if (cp < 0x800)
            {
                destination[d++] = (byte)(0xC0 | (cp >> 6));
                destination[d++] = (byte)(0x80 | (cp & 0x3F));
            }
            else if (cp < 0x10000)
            {
                destination[d++] = (byte)(0xE0 | (cp >> 12));
                destination[d++] = (byte)(0x80 | ((cp >> 6) & 0x3F));
                destination[d++] = (byte)(0x80 | (cp & 0x3F));
            }
            else
            {
                destination[d++] = (byte)(0xF0 | (cp >> 18));
                destination[d++] = (byte)(0x80 | ((cp >> 12) & 0x3F));
                destination[d++] = (byte)(0x80 | ((cp >> 6) & 0x3F));
                destination[d++] = (byte)(0x80 | (cp & 0x3F));
            }
        }

        return d;
    }
}
