using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Hardening.Auth;

/// <summary>One limit as plain milliseconds, applied to one key.</summary>
internal readonly record struct ThrottleRule(string Key, int Threshold, long WindowMs, long LockoutMs, long MaxLockoutMs)
{
    public static ThrottleRule For(string key, LoginThrottleLimit limit) =>
        new(key, limit.Threshold, (long)limit.Window.TotalMilliseconds, (long)limit.Lockout.TotalMilliseconds, (long)limit.MaxLockout.TotalMilliseconds);
}

/// <summary>What a store decided for one attempt.</summary>
/// <param name="Allowed">Admitted (and counted).</param>
/// <param name="RetryAfterMs">When refused: milliseconds until the longest lockout ends.</param>
/// <param name="ScopeIndex">When refused: the index of the rule with that lockout.</param>
/// <param name="LockMask">When admitted: bit i set when this attempt started a lockout on rule i.</param>
/// <param name="LockMs">The longest lockout this attempt started.</param>
internal readonly record struct ThrottleOutcome(bool Allowed, long RetryAfterMs, int ScopeIndex, int LockMask, long LockMs);

/// <summary>Throttle keys: hashes of normalized accounts and network prefixes, never the values themselves.</summary>
internal static class ThrottleKeys
{
    public static string Account(string prefix, string account) => prefix + "a:" + Hash(NormalizeAccount(account), null);

    public static string Ip(string prefix, string network) => prefix + "i:" + Hash(null, network);

    public static string AccountAndIp(string prefix, string account, string network) => prefix + "p:" + Hash(NormalizeAccount(account), network);

    /// <summary>Case- and compatibility-folded so that "Alice", "alice " and "ＡＬＩＣＥ" share one counter.</summary>
    public static string NormalizeAccount(string account) => account.Trim().Normalize(NormalizationForm.FormKC).ToUpperInvariant();

    /// <summary>
    /// The client's network: the IPv4 address (an IPv4-mapped IPv6 address counts as its IPv4 address), or the /64 of
    /// an IPv6 address (one subscriber usually holds a whole /64); "unknown" without an address.
    /// </summary>
    public static string Network(IPAddress? address) => address is null ? "unknown" : IsIPv6(address) ? Network(address, 64) : Canonical(address).ToString();

    /// <summary>The IPv6 network of <paramref name="address"/> with the given prefix length, as "2001:db8::/48".</summary>
    public static string Network(IPAddress address, int prefixLength)
    {
        Span<byte> bytes = stackalloc byte[16];
        Canonical(address).TryWriteBytes(bytes, out _);
        var whole = prefixLength / 8;
        if (prefixLength % 8 != 0)
        {
            bytes[whole] &= (byte)(0xFF << (8 - (prefixLength % 8)));
            whole++;
        }

        bytes[whole..].Clear();
        return string.Concat(new IPAddress(bytes).ToString(), "/", prefixLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>True for a real IPv6 client (not an IPv4-mapped one).</summary>
    public static bool IsIPv6(IPAddress address) => Canonical(address).AddressFamily == AddressFamily.InterNetworkV6;

    /// <summary>IPv4-mapped IPv6 as IPv4; the scope id of an IPv6 address dropped (it names our interface, not the client).</summary>
    private static IPAddress Canonical(IPAddress address) =>
        address.IsIPv4MappedToIPv6 ? address.MapToIPv4()
        : address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0 ? new IPAddress(address.GetAddressBytes())
        : address;

    private static string Hash(string? a, string? b)
    {
        var max = 8 + Encoding.UTF8.GetMaxByteCount((a?.Length ?? 0) + (b?.Length ?? 0));
        byte[]? rented = null;
        var buffer = max <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var pos = 0;
            foreach (var part in (ReadOnlySpan<string?>)[a, b])
            {
                var n = part is null ? -1 : Encoding.UTF8.GetBytes(part, buffer[(pos + 4)..]);
                BinaryPrimitives.WriteInt32BigEndian(buffer[pos..], n);
                pos += 4 + Math.Max(n, 0);
            }

            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(buffer[..pos], hash);
            return Base64Url.EncodeToString(hash[..24]);
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
