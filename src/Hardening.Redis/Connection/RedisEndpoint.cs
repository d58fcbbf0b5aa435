using System.Globalization;

namespace Hardening.Redis;

/// <summary>A Redis server address.</summary>
/// <param name="Host">Host name or IP address.</param>
/// <param name="Port">TCP port.</param>
public sealed record RedisEndpoint(string Host, int Port)
{
    /// <summary><c>host:port</c> (IPv6 in brackets).</summary>
    /// <returns>The address.</returns>
    public override string ToString() =>
        Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}" : $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    internal static RedisEndpoint Parse(string text, int defaultPort)
    {
        string host;
        string? port = null;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || (close + 1 < text.Length && text[close + 1] != ':'))
            {
                throw Bad(text);
            }

            host = text[1..close];
            port = close + 1 < text.Length ? text[(close + 2)..] : null;
        }
        else
        {
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            if (colon != text.LastIndexOf(':'))
            {
                throw Bad(text);
            }

            host = colon < 0 ? text : text[..colon];
            port = colon < 0 ? null : text[(colon + 1)..];
        }

        if (host.Length == 0 || host.Any(char.IsWhiteSpace))
        {
            throw Bad(text);
        }

        var portNumber = defaultPort;
        if (port is not null && (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out portNumber) || portNumber is < 1 or > 65535))
        {
            throw new ArgumentException($"Redis endpoint '{text}' has an invalid port '{port}'; expected 1 to 65535.", "connectionString");
        }

        return new RedisEndpoint(host, portNumber);
    }

    private static ArgumentException Bad(string text) =>
        new($"Redis endpoint '{text}' is not 'host:port' (IPv6 as '[::1]:6379'); options are 'name=value'.", "connectionString");
}
