using System.Globalization;
using System.Net.Security;
using System.Text;

namespace Hardening.Redis;

/// <summary>Connection settings in StackExchange.Redis's connection-string format.</summary>
/// <example>
/// <code>
/// var options = RedisConnectionOptions.Parse("cache.example.com:6380,password=...,ssl=true,abortConnect=false");
/// await using var redis = await RedisConnection.ConnectAsync(options);
/// </code>
/// </example>
public sealed class RedisConnectionOptions
{
    private static readonly string[] Supported =
        ["user", "password", "ssl", "sslHost", "connectTimeout", "syncTimeout", "defaultDatabase", "name", "abortConnect"];

    private List<RedisEndpoint> _endpoints = [];

    /// <summary>The servers to try, in order (the first that accepts the connection is used; no cluster or sentinel).</summary>
    public IList<RedisEndpoint> Endpoints => _endpoints;

    /// <summary>ACL user name for <c>AUTH</c> (<c>user=</c>); null uses the default user.</summary>
    public string? User { get; set; }

    /// <summary>Password for <c>AUTH</c> (<c>password=</c>); null skips <c>AUTH</c>.</summary>
    public string? Password { get; set; }

    /// <summary>Use TLS (<c>ssl=true</c>). Default false.</summary>
    public bool Ssl { get; set; }

    /// <summary>The host name the server certificate must match (<c>sslHost=</c>); default the endpoint's host.</summary>
    public string? SslHost { get; set; }

    /// <summary>Optional certificate validation for TLS. Null (the default) uses the system's validation and rejects invalid certificates.</summary>
    public RemoteCertificateValidationCallback? CertificateValidation { get; set; }

    /// <summary>How long a connect (TCP, TLS and handshake) may take (<c>connectTimeout=</c> ms). Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a command may wait for its reply (<c>syncTimeout=</c> ms). Default 5 s.</summary>
    public TimeSpan SyncTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Database selected with <c>SELECT</c> on connect (<c>defaultDatabase=</c>). Default 0.</summary>
    public int DefaultDatabase { get; set; }

    /// <summary>Client name set with <c>CLIENT SETNAME</c> on connect (<c>name=</c>); null sets none.</summary>
    public string? ClientName { get; set; }

    /// <summary>
    /// When true (the default, as in StackExchange.Redis), <see cref="RedisConnection.ConnectAsync(RedisConnectionOptions, Microsoft.Extensions.Logging.ILoggerFactory?, CancellationToken)"/>
    /// throws if the first connect fails; when false it returns a connection that keeps retrying in the background.
    /// </summary>
    public bool AbortConnect { get; set; } = true;

    /// <summary>First delay before a reconnect attempt; doubles per failed attempt, with jitter. Default 100 ms.</summary>
    public TimeSpan ReconnectMinDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest delay between reconnect attempts. Default 5 s.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Parses <c>host:port[,host2:port2],user=...,password=...,ssl=true,...</c>.</summary>
    /// <param name="connectionString">The connection string. Option names are case-insensitive.</param>
    /// <returns>The options.</returns>
    /// <exception cref="ArgumentException">An option is unknown or malformed, or no endpoint is given; the message names it.</exception>
    public static RedisConnectionOptions Parse(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var options = new RedisConnectionOptions();
        var endpoints = new List<string>();
        foreach (var raw in connectionString.Split(','))
        {
            var token = raw.Trim();
            if (token.Length == 0)
            {
                continue;
            }

            var eq = token.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                endpoints.Add(token);
                continue;
            }

            var key = token[..eq].Trim();
            var value = token[(eq + 1)..].Trim();
            switch (key.ToUpperInvariant())
            {
                case "USER":
                    options.User = value.Length == 0 ? null : value;
                    break;
                case "PASSWORD":
                    options.Password = value.Length == 0 ? null : value;
                    break;
                case "SSL":
                    options.Ssl = ParseBool(key, value);
                    break;
                case "SSLHOST":
                    options.SslHost = value.Length == 0 ? null : value;
                    break;
                case "CONNECTTIMEOUT":
                    options.ConnectTimeout = ParseMilliseconds(key, value);
                    break;
                case "SYNCTIMEOUT":
                    options.SyncTimeout = ParseMilliseconds(key, value);
                    break;
                case "DEFAULTDATABASE":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var db))
                    {
                        throw Bad(key, $"must be a database number of 0 or more; got '{value}'");
                    }

                    options.DefaultDatabase = db;
                    break;
                case "NAME":
                    options.ClientName = value.Length == 0 ? null : value;
                    break;
                case "ABORTCONNECT":
                    options.AbortConnect = ParseBool(key, value);
                    break;
                default:
                    throw new ArgumentException(
                        $"Unknown Redis connection string option '{key}'. Supported options: {string.Join(", ", Supported)}.",
                        nameof(connectionString));
            }
        }

        foreach (var endpoint in endpoints)
        {
            options.Endpoints.Add(RedisEndpoint.Parse(endpoint, options.Ssl ? 6380 : 6379));
        }

        options.Validate();
        return options;
    }

    /// <summary>Checks the options; called by <see cref="RedisConnection"/> before it connects.</summary>
    /// <exception cref="ArgumentException">A setting is invalid; the message names it.</exception>
    public void Validate()
    {
        if (Endpoints.Count == 0)
        {
            throw new ArgumentException("The Redis connection string has no endpoint; start it with 'host:port', e.g. 'localhost:6379'.", "connectionString");
        }

        foreach (var endpoint in Endpoints)
        {
            if (endpoint is null)
            {
                throw new ArgumentException("Redis option 'Endpoints' contains null.", nameof(Endpoints));
            }
        }

        CheckPositive(ConnectTimeout, "connectTimeout");
        CheckPositive(SyncTimeout, "syncTimeout");
        CheckPositive(ReconnectMinDelay, nameof(ReconnectMinDelay));
        if (ReconnectMaxDelay < ReconnectMinDelay)
        {
            throw new ArgumentException($"Redis option '{nameof(ReconnectMaxDelay)}' ({ReconnectMaxDelay}) must be at least '{nameof(ReconnectMinDelay)}' ({ReconnectMinDelay}).", nameof(ReconnectMaxDelay));
        }

        if (DefaultDatabase < 0)
        {
            throw new ArgumentException($"Redis option 'defaultDatabase' must be 0 or more; got {DefaultDatabase}.", nameof(DefaultDatabase));
        }

        if (ClientName is not null && ClientName.Any(c => c <= ' '))
        {
            throw new ArgumentException($"Redis option 'name' must not contain spaces or control characters; got '{ClientName}'.", nameof(ClientName));
        }

        if (User is not null && Password is null)
        {
            throw new ArgumentException("Redis option 'user' needs 'password' too (AUTH user password).", nameof(User));
        }
    }

    /// <summary>A copy of these options, so later changes do not affect a connection.</summary>
    /// <returns>The copy.</returns>
    public RedisConnectionOptions Clone()
    {
        var copy = (RedisConnectionOptions)MemberwiseClone();
        copy._endpoints = [.. _endpoints];
        return copy;
    }

    internal void CopyTo(RedisConnectionOptions target)
    {
        target._endpoints = [.. _endpoints];
        target.User = User;
        target.Password = Password;
        target.Ssl = Ssl;
        target.SslHost = SslHost;
        target.CertificateValidation = CertificateValidation;
        target.ConnectTimeout = ConnectTimeout;
        target.SyncTimeout = SyncTimeout;
        target.DefaultDatabase = DefaultDatabase;
        target.ClientName = ClientName;
        target.AbortConnect = AbortConnect;
        target.ReconnectMinDelay = ReconnectMinDelay;
        target.ReconnectMaxDelay = ReconnectMaxDelay;
    }

    /// <summary>The options as a connection string, with the password redacted.</summary>
    /// <returns>The redacted connection string.</returns>
    public override string ToString()
    {
        var sb = new StringBuilder(string.Join(",", Endpoints));
        if (User is not null)
        {
            sb.Append(",user=").Append(User);
        }

        if (Password is not null)
        {
            sb.Append(",password=*****");
        }

        if (Ssl)
        {
            sb.Append(",ssl=true");
        }

        if (SslHost is not null)
        {
            sb.Append(",sslHost=").Append(SslHost);
        }

        sb.Append(CultureInfo.InvariantCulture, $",connectTimeout={(long)ConnectTimeout.TotalMilliseconds},syncTimeout={(long)SyncTimeout.TotalMilliseconds}");
        if (DefaultDatabase != 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $",defaultDatabase={DefaultDatabase}");
        }

        if (ClientName is not null)
        {
            sb.Append(",name=").Append(ClientName);
        }

        sb.Append(",abortConnect=").Append(AbortConnect ? "true" : "false");
        return sb.ToString();
    }

    private static bool ParseBool(string key, string value) => value.ToUpperInvariant() switch
    {
        "TRUE" => true,
        "FALSE" => false,
        _ => throw Bad(key, $"must be 'true' or 'false'; got '{value}'"),
    };

    private static TimeSpan ParseMilliseconds(string key, string value)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) || ms <= 0)
        {
            throw Bad(key, $"must be a positive whole number of milliseconds; got '{value}'");
        }

        return TimeSpan.FromMilliseconds(ms);
    }

    private static void CheckPositive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentException($"Redis option '{name}' must be positive; got {value}.", name);
        }
    }

    private static ArgumentException Bad(string key, string problem) =>
        new($"Redis connection string option '{key}' {problem}.", "connectionString");
}
