namespace Hardening.Auth;

/// <summary>
/// The modular crypt format of bcrypt: <c>$2b$NN$</c> + 22 salt characters + 31 digest characters, in bcrypt's
/// own base64 alphabet (<c>./A-Za-z0-9</c>, standard bit order, no padding).
/// </summary>
internal static class BCryptFormat
{
    public const int SaltChars = 22;
    public const int DigestChars = 31;
    public const int SettingLength = 7 + SaltChars;
    public const int HashLength = SettingLength + DigestChars;

    private const string Alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>Encodes <paramref name="data"/> into exactly ceil(len * 4 / 3) characters.</summary>
    public static void Encode(ReadOnlySpan<byte> data, Span<char> destination)
    {
        var d = 0;
        var i = 0;
        while (i < data.Length)
        {
            int c1 = data[i++];
            destination[d++] = Alphabet[c1 >> 2];
            c1 = (c1 & 0x03) << 4;
            if (i >= data.Length)
            {
                destination[d++] = Alphabet[c1];
                break;
            }

            int c2 = data[i++];
            c1 |= c2 >> 4;
            destination[d++] = Alphabet[c1];
            c1 = (c2 & 0x0F) << 2;
            if (i >= data.Length)
            {
                destination[d++] = Alphabet[c1];
                break;
            }

            c2 = data[i++];
            c1 |= c2 >> 6;
            destination[d++] = Alphabet[c1];
            destination[d++] = Alphabet[c2 & 0x3F];
        }
    }

    /// <summary>Decodes characters into <paramref name="destination"/>.Length bytes; false on a character outside the alphabet.</summary>
    public static bool TryDecode(ReadOnlySpan<char> source, Span<byte> destination)
    {
        var needed = ((destination.Length * 8) + 5) / 6;
        if (source.Length < needed)
        {
            return false;
        }

        var bits = 0;
        var acc = 0;
        var d = 0;
        for (var i = 0; i < needed; i++)
        {
            var v = Alphabet.IndexOf(source[i], StringComparison.Ordinal);
            if (v < 0)
            {
                return false;
            }

            acc = (acc << 6) | v;
            bits += 6;
            if (bits >= 8)
            {
                bits -= 8;
                destination[d++] = (byte)(acc >> bits);
                acc &= (1 << bits) - 1;
                if (d == destination.Length)
                {
                    break;
                }
            }
        }

        return true;
    }

    /// <summary>
    /// Parses a bcrypt setting or full hash. Returns null on success, otherwise the problem (never the input).
    /// <c>$2x$</c> is refused: those hashes were made by the pre-2011 crypt_blowfish sign-extension bug.
    /// </summary>
    public static string? TryParse(ReadOnlySpan<char> text, bool requireDigest, out BCryptMinor minor, out int cost, Span<byte> salt)
    {
        minor = BCryptMinor.B;
        cost = 0;
        if (text.Length < 4 || text[0] != '$' || text[1] != '2' || text[3] != '$')
        {
            return "not a bcrypt hash (expected a '$2b$', '$2a$' or '$2y$' prefix)";
        }

        switch (text[2])
        {
            case 'b': minor = BCryptMinor.B; break;
            case 'a': minor = BCryptMinor.A; break;
            case 'y': minor = BCryptMinor.Y; break;
            case 'x':
                return "'$2x$' bcrypt hashes come from the crypt_blowfish sign-extension bug and are not supported; reset the password";
            default:
                return "unknown bcrypt version (expected '$2b$', '$2a$' or '$2y$')";
        }

        var expected = requireDigest ? HashLength : SettingLength;
        if (text.Length != expected)
        {
            return $"a bcrypt {(requireDigest ? "hash" : "setting")} is {expected} characters long, this one has {text.Length}";
        }

        if (!char.IsAsciiDigit(text[4]) || !char.IsAsciiDigit(text[5]) || text[6] != '$')
        {
            return "the bcrypt cost is not two decimal digits followed by '$'";
        }

        cost = ((text[4] - '0') * 10) + (text[5] - '0');
        if (cost is < BCrypt.MinCost or > BCrypt.MaxCost)
        {
            return $"the bcrypt cost {cost} is outside {BCrypt.MinCost}..{BCrypt.MaxCost}";
        }

        if (!TryDecode(text.Slice(7, SaltChars), salt))
        {
            return "the bcrypt salt has a character outside the bcrypt base64 alphabet";
        }

        if (requireDigest)
        {
            Span<byte> digest = stackalloc byte[BCrypt.HashSize];
            if (!TryDecode(text.Slice(SettingLength, DigestChars), digest))
            {
                return "the bcrypt digest has a character outside the bcrypt base64 alphabet";
            }
        }

        return null;
    }

    /// <summary>Formats a full bcrypt hash string.</summary>
    public static string Format(BCryptMinor minor, int cost, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> digest)
    {
        Span<char> chars = stackalloc char[HashLength];
        Write(minor, cost, salt, digest, chars);
        return new string(chars);
    }

    /// <summary>Writes a full bcrypt hash string into 60 characters.</summary>
    public static void Write(BCryptMinor minor, int cost, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> digest, Span<char> chars)
    {
        chars[0] = '$';
        chars[1] = '2';
        chars[2] = minor switch { BCryptMinor.A => 'a', BCryptMinor.Y => 'y', _ => 'b' };
        chars[3] = '$';
        chars[4] = (char)('0' + (cost / 10));
        chars[5] = (char)('0' + (cost % 10));
        chars[6] = '$';
        Encode(salt, chars.Slice(7, SaltChars));
        Encode(digest[..BCrypt.HashSize], chars.Slice(SettingLength, DigestChars));
    }
}
