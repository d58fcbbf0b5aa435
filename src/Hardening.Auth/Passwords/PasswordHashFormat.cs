using System.Globalization;

namespace Hardening.Auth;

/// <summary>Which algorithm a stored Hardening hash uses after the keyed pre-hash.</summary>
internal enum PasswordScheme
{
    BCrypt,
    Pbkdf2Sha512,
}

/// <summary>A parsed Hardening hash string.</summary>
internal readonly record struct ParsedPasswordHash(PasswordScheme Scheme, int Version, int Work, string? PepperId, Range Salt, Range Digest);

/// <summary>
/// The stored format, a PHC string (https://github.com/P-H-C/phc-string-format):
/// <c>$hbcrypt$v=1$c=12,k=main$&lt;salt&gt;$&lt;digest&gt;</c> or <c>$hpbkdf2-sha512$v=1$i=210000,k=main$&lt;salt&gt;$&lt;digest&gt;</c>.
/// <c>c</c> is the bcrypt cost, <c>i</c> the PBKDF2 iterations, <c>k</c> the pepper id (absent: no pepper, the domain
/// key); salt (16 bytes) and digest (bcrypt 23 bytes, PBKDF2 32 bytes) are base64 without padding.
/// </summary>
internal static class PasswordHashFormat
{
    public const string BCryptPrefix = "$hbcrypt$";
    public const string Pbkdf2Prefix = "$hpbkdf2-sha512$";
    public const int CurrentVersion = 1;
    public const int Pbkdf2DigestSize = 32;
    public const int MaxLength = 200;

    public static int DigestSize(PasswordScheme scheme) => scheme == PasswordScheme.BCrypt ? BCrypt.HashSize : Pbkdf2DigestSize;

    /// <summary>Formats a current-version hash string.</summary>
    public static string Format(PasswordScheme scheme, int work, string? pepperId, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> digest)
    {
        Span<char> chars = stackalloc char[MaxLength];
        var invariant = CultureInfo.InvariantCulture;
        var ok = scheme == PasswordScheme.BCrypt
            ? chars.TryWrite(invariant, $"{BCryptPrefix}v={CurrentVersion}$c={work}", out var n)
            : chars.TryWrite(invariant, $"{Pbkdf2Prefix}v={CurrentVersion}$i={work}", out n);
        if (ok && pepperId is not null)
        {
            ok = chars[n..].TryWrite(invariant, $",k={pepperId}", out var m);
            n += m;
        }

        if (!ok)
        {
            throw new InvalidOperationException("Unreachable: the hash string buffer is sized for the longest parameters.");
        }

        chars[n++] = '$';
        var saltChars = PhcBase64.EncodedLength(salt.Length);
        PhcBase64.Encode(salt, chars.Slice(n, saltChars));
        n += saltChars;
        chars[n++] = '$';
        var digestChars = PhcBase64.EncodedLength(digest.Length);
        PhcBase64.Encode(digest, chars.Slice(n, digestChars));
        n += digestChars;
        return new string(chars[..n]);
    }

    /// <summary>Parses a Hardening hash; returns null on success, otherwise the problem (which never quotes the hash).</summary>
    public static string? TryParse(ReadOnlySpan<char> text, out ParsedPasswordHash parsed)
    {
        parsed = default;
        if (text.Length > MaxLength)
        {
            return $"a Hardening password hash is at most {MaxLength} characters, this one has {text.Length}";
        }

        PasswordScheme scheme;
        if (text.StartsWith(BCryptPrefix, StringComparison.Ordinal))
        {
            scheme = PasswordScheme.BCrypt;
        }
        else if (text.StartsWith(Pbkdf2Prefix, StringComparison.Ordinal))
        {
            scheme = PasswordScheme.Pbkdf2Sha512;
        }
        else
        {
            return "not a Hardening password hash";
        }

        // "", id, v=N, params, salt, digest
        Span<Range> parts = stackalloc Range[7];
        if (text.Split(parts, '$') != 6)
        {
            return "a Hardening password hash has six '$'-separated fields: $scheme$v=N$params$salt$digest";
        }

        var versionText = text[parts[2]];
        if (!versionText.StartsWith("v=", StringComparison.Ordinal) || !TryParseNumber(versionText[2..], 3, out var version) || version < 1)
        {
            return "the version field is not 'v=' and a positive number";
        }

        if (version > CurrentVersion)
        {
            return $"version v={version} is newer than this library understands (v={CurrentVersion}); upgrade Hardening.Auth";
        }

        var workKey = scheme == PasswordScheme.BCrypt ? 'c' : 'i';
        var work = -1;
        string? pepperId = null;
        var parameters = text[parts[3]];
        Span<Range> pairs = stackalloc Range[3];
        var count = parameters.Split(pairs, ',');
        if (count is < 1 or > 2)
        {
            return $"the parameter field must be '{workKey}=N' optionally followed by ',k=<pepper id>'";
        }

        for (var i = 0; i < count; i++)
        {
            var pair = parameters[pairs[i]];
            if (pair.Length < 2 || pair[1] != '=')
            {
                return "a parameter is not 'name=value'";
            }

            var value = pair[2..];
            if (pair[0] == workKey && work < 0)
            {
                var max = scheme == PasswordScheme.BCrypt ? 2 : 8;
                if (!TryParseNumber(value, max, out work))
                {
                    return $"the '{workKey}' parameter is not a number of at most {max} digits";
                }
            }
            else if (pair[0] == 'k' && pepperId is null && i > 0)
            {
                pepperId = value.ToString();
                if (!PasswordHasherOptions.IsValidPepperId(pepperId))
                {
                    return "the pepper id is not 1-32 characters of A-Z a-z 0-9 . _ -";
                }
            }
            else
            {
                return $"unexpected parameter '{pair[0]}' (expected '{workKey}=N' then an optional 'k=<pepper id>')";
            }
        }

        if (work < 0)
        {
            return $"the '{workKey}' parameter is missing";
        }

        if (scheme == PasswordScheme.BCrypt && work is < PasswordHasherOptions.MinCost or > PasswordHasherOptions.MaxCost)
        {
            return $"the bcrypt cost {work} is outside {PasswordHasherOptions.MinCost}..{PasswordHasherOptions.MaxCost}";
        }

        if (scheme == PasswordScheme.Pbkdf2Sha512 && work is < 1 or > PasswordHasherOptions.MaxPbkdf2Iterations)
        {
            return $"the PBKDF2 iteration count {work} is outside 1..{PasswordHasherOptions.MaxPbkdf2Iterations}";
        }

        Span<byte> scratch = stackalloc byte[Pbkdf2DigestSize];
        if (!PhcBase64.TryDecode(text[parts[4]], scratch[..BCrypt.SaltSize]))
        {
            return "the salt is not 22 characters of unpadded base64";
        }

        var digestSize = DigestSize(scheme);
        if (!PhcBase64.TryDecode(text[parts[5]], scratch[..digestSize]))
        {
            return $"the digest is not {PhcBase64.EncodedLength(digestSize)} characters of unpadded base64";
        }

        parsed = new ParsedPasswordHash(scheme, version, work, pepperId, parts[4], parts[5]);
        return null;
    }

    private static bool TryParseNumber(ReadOnlySpan<char> digits, int maxDigits, out int value)
    {
        value = 0;
        if (digits.IsEmpty || digits.Length > maxDigits || (digits.Length > 1 && digits[0] == '0'))
        {
            return false;
        }

        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return true;
    }
}
