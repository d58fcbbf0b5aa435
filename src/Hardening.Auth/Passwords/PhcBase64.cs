namespace Hardening.Auth;

/// <summary>The PHC string format's "B64": standard base64 alphabet, no padding, no whitespace.</summary>
internal static class PhcBase64
{
    public static int EncodedLength(int bytes) => ((bytes * 4) + 2) / 3;

    /// <summary>Encodes <paramref name="data"/> into exactly <see cref="EncodedLength"/> characters.</summary>
    public static void Encode(ReadOnlySpan<byte> data, Span<char> destination)
    {
        Span<char> padded = stackalloc char[((data.Length + 2) / 3) * 4];
        if (!Convert.TryToBase64Chars(data, padded, out _))
        {
            throw new InvalidOperationException("Unreachable: the base64 buffer is sized for the input.");
        }

        padded[..EncodedLength(data.Length)].CopyTo(destination);
    }

    /// <summary>Decodes exactly <paramref name="destination"/>.Length bytes; false on a wrong length or a character outside the alphabet.</summary>
    public static bool TryDecode(ReadOnlySpan<char> source, Span<byte> destination)
    {
        if (source.Length != EncodedLength(destination.Length) || destination.Length > 256)
        {
            return false;
        }

        foreach (var c in source)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('+' or '/'))
            {
                return false;
            }
        }

        // Canonical only: the unused low bits of the last character must be zero, so one value has one spelling.
        var spareBits = (source.Length * 6) - (destination.Length * 8);
        if (spareBits > 0 && (Value(source[^1]) & ((1 << spareBits) - 1)) != 0)
        {
            return false;
        }

        Span<char> padded = stackalloc char[((destination.Length + 2) / 3) * 4];
        source.CopyTo(padded);
        padded[source.Length..].Fill('=');
        return Convert.TryFromBase64Chars(padded, destination, out var written) && written == destination.Length;
    }

    private static int Value(char c) => c switch
    {
        >= 'A' and <= 'Z' => c - 'A',
        >= 'a' and <= 'z' => c - 'a' + 26,
        >= '0' and <= '9' => c - '0' + 52,
        '+' => 62,
        _ => 63,
    };
}
