using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Hardening.Auth.Tokens;

/// <summary>
/// SHA-256 of a length-prefixed (issuer, jti) pair: fixed size, never the raw token or claim, and
/// ("a","bc") differs from ("ab","c").
/// </summary>
internal readonly struct ReplayKey : IEquatable<ReplayKey>
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static ReadOnlySpan<byte> Domain => "hardening.auth.jti.v1\0"u8;

    private readonly ulong _a;
    private readonly ulong _b;
    private readonly ulong _c;
    private readonly ulong _d;

    private ReplayKey(ReadOnlySpan<byte> hash)
    {
        _a = BinaryPrimitives.ReadUInt64LittleEndian(hash);
        _b = BinaryPrimitives.ReadUInt64LittleEndian(hash[8..]);
        _c = BinaryPrimitives.ReadUInt64LittleEndian(hash[16..]);
        _d = BinaryPrimitives.ReadUInt64LittleEndian(hash[24..]);
    }

    /// <summary>Low bits for picking a segment.</summary>
    public int Bucket => (int)_a;

    public static ReplayKey Compute(string issuer, string jti)
    {
        int max;
        try
        {
            max = Domain.Length + 8 + StrictUtf8.GetByteCount(issuer) + StrictUtf8.GetByteCount(jti);
        }
        catch (EncoderFallbackException ex)
        {
            throw new ArgumentException("The issuer or jti contains an invalid UTF-16 sequence (a lone surrogate); it cannot be a claim of a valid token.", ex);
        }

        byte[]? rented = null;
        var buffer = max <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            Domain.CopyTo(buffer);
            var pos = Domain.Length;
            var n = StrictUtf8.GetBytes(issuer, buffer[(pos + 4)..]);
            BinaryPrimitives.WriteInt32BigEndian(buffer[pos..], n);
            pos += 4 + n;
            n = StrictUtf8.GetBytes(jti, buffer[(pos + 4)..]);
            BinaryPrimitives.WriteInt32BigEndian(buffer[pos..], n);
            pos += 4 + n;
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(buffer[..pos], hash);
            return new ReplayKey(hash);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The key as stored in Redis: <paramref name="prefix"/> + base64url of the 32-byte hash (43 characters).</summary>
    public string ToRedisKey(string prefix)
    {
        Span<byte> hash = stackalloc byte[32];
        BinaryPrimitives.WriteUInt64LittleEndian(hash, _a);
        BinaryPrimitives.WriteUInt64LittleEndian(hash[8..], _b);
        BinaryPrimitives.WriteUInt64LittleEndian(hash[16..], _c);
        BinaryPrimitives.WriteUInt64LittleEndian(hash[24..], _d);
        return string.Concat(prefix, Base64Url.EncodeToString(hash));
    }

    public bool Equals(ReplayKey other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    public override bool Equals(object? obj) => obj is ReplayKey k && Equals(k);

    public override int GetHashCode() => (int)(_a >> 32) ^ (int)_b;

    public static bool operator ==(ReplayKey left, ReplayKey right) => left.Equals(right);

    public static bool operator !=(ReplayKey left, ReplayKey right) => !left.Equals(right);
}
