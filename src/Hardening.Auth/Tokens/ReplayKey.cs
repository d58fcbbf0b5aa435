using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Hardening.Auth;

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

    /// <summary>
    /// The key as stored in Redis: <paramref name="prefix"/> + <c>{g}</c> + base64url of the 32-byte hash (43 characters),
    /// where <c>g</c> is the hash's first base64url character. The hash tag puts each key in one of 64 groups (hash
    /// slots on a cluster) and lets the key share its slot with its group's marker (<see cref="ToRedisMarker"/>).
    /// </summary>
    public string ToRedisKey(string prefix) => string.Create(prefix.Length + 3 + 43, (prefix, this), static (span, state) =>
    {
        Span<byte> hash = stackalloc byte[32];
        state.Item2.WriteHash(hash);
        state.prefix.CopyTo(span);
        var rest = span[state.prefix.Length..];
        Base64Url.EncodeToChars(hash, rest[3..]);
        rest[0] = '{';
        rest[1] = rest[3];
        rest[2] = '}';
    });

    /// <summary>The marker key of this key's group: <paramref name="prefix"/> + <c>{g}:since</c> (':' is not base64url, so no jti key collides).</summary>
    public string ToRedisMarker(string prefix) => MarkerFor(prefix, Base64UrlAlphabet[Group]);

    /// <summary>The index (0-63) of this key's group in <see cref="AllRedisMarkers"/>.</summary>
    public int Group => (byte)_a >> 2;

    /// <summary>The 64 group markers, one per base64url character.</summary>
    public static IEnumerable<string> AllRedisMarkers(string prefix) => Base64UrlAlphabet.Select(c => MarkerFor(prefix, c));

    private static string MarkerFor(string prefix, char group) => string.Concat(prefix, "{", group.ToString(), "}:since");

    private void WriteHash(Span<byte> hash)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(hash, _a);
        BinaryPrimitives.WriteUInt64LittleEndian(hash[8..], _b);
        BinaryPrimitives.WriteUInt64LittleEndian(hash[16..], _c);
        BinaryPrimitives.WriteUInt64LittleEndian(hash[24..], _d);
    }

    private const string Base64UrlAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    public bool Equals(ReplayKey other) => _a == other._a && _b == other._b && _c == other._c && _d == other._d;

    public override bool Equals(object? obj) => obj is ReplayKey k && Equals(k);

    public override int GetHashCode() => (int)(_a >> 32) ^ (int)_b;

    public static bool operator ==(ReplayKey left, ReplayKey right) => left.Equals(right);

    public static bool operator !=(ReplayKey left, ReplayKey right) => !left.Equals(right);
}
